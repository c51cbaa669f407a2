"""Refresh the README's measured blocks from the commands that measure them:

    python scripts/readme.py            # (make readme)

Each block sits between `<!-- name -->` and `<!-- /name -->`: results (python -m ae.results, from
the checkpoints' stored metrics), digit (python -m ae.novelty), compress (python -m ae.compress),
bench and class (docs/bench.json as python -m bench prints it: the class block holds `class` and `lead`). tests/test_shipped.py and tests/test_readme.py
check that the README holds exactly these.
"""

import contextlib
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ae import checkpoints, compress, novelty, results  # noqa: E402
from bench import classroom  # noqa: E402
from bench.__main__ import markdown, measured_on  # noqa: E402


def printed(main, argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(argv)
    return out.getvalue().strip()


def bench_blocks(result: dict) -> dict[str, str]:
    """The README's two blocks of bench figures: speed (everything but the class) and the class (its
    load, and the teacher leading it)."""
    led = ["", *classroom.led_markdown(result["lead"])] if result.get("lead") else []
    class_parts = {k: v for k, v in result.items() if k in ("machine", "torch", "machines", "class", "lead")}
    return {
        "bench": markdown({k: v for k, v in result.items() if k not in ("class", "lead")}),
        "class": "\n".join([measured_on(class_parts), "", *classroom.markdown(result["class"]), *led]),
    }


def main() -> int:
    shipped = checkpoints.checkpoint_files(ROOT / "checkpoints")
    blocks = {
        "results": results.results_table(shipped),
        "digit": printed(novelty.main, [str(p) for p in shipped]),
        "compress": printed(compress.main, [str(ROOT / "checkpoints" / "conv32.safetensors")]),
        **bench_blocks(json.loads((ROOT / "docs" / "bench.json").read_text())),
    }
    (ROOT / "docs" / "results.md").write_text(blocks["results"] + "\n")
    (ROOT / "docs" / "bench.md").write_text(markdown(json.loads((ROOT / "docs" / "bench.json").read_text())) + "\n")
    readme = (ROOT / "README.md").read_text()
    for name, text in blocks.items():
        pattern = re.compile(rf"(<!-- {name} -->\n)(?:.*?\n)?(<!-- /{name} -->)", re.S)
        if not pattern.search(readme):
            print(f"README.md has no <!-- {name} --> block", file=sys.stderr)
            return 1
        readme = pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), readme)
    (ROOT / "README.md").write_text(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
