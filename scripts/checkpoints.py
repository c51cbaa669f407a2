"""Retrain the shipped checkpoints from scratch (make checkpoints), or some of them by name:

    python scripts/checkpoints.py conv32 pca2 [--out checkpoints]

Each model's recipe is declared next to its architecture in ae/models/ (`ship(...)`). Hours on a
2-core CPU for all of them (the README's table has each model's time); minutes on a GPU.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae import models  # noqa: E402
from ae.train import cli  # noqa: E402
from ae.train_config import TrainConfig  # noqa: E402


def retrain(recipe: models.Recipe, out: Path) -> int:
    path = out / f"{recipe.name}.safetensors"
    for i, stage in enumerate(recipe.stages):
        print(f"== {recipe.name}, stage {i + 1} of {len(recipe.stages)}", file=sys.stderr)
        code = cli.run(TrainConfig(**stage, out=str(path), resume=str(path) if i else None))
        if code:
            return code
    return 0


def main() -> int:
    shipped = models.shipped()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"default: all of {', '.join(shipped)}")
    p.add_argument("--out", type=Path, default=Path("checkpoints"))
    args = p.parse_args()
    unknown = set(args.names) - set(shipped)
    if unknown:
        p.error(f"no recipe for {', '.join(sorted(unknown))}; known: {', '.join(shipped)}")
    for name in args.names or shipped:
        if code := retrain(shipped[name], args.out):
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
