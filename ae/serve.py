"""The app served: `python -m ae.serve [streamlit options]` runs `streamlit run entry.py` (the
app as an ASGI application with our routes) with them, and warms in the background, as the server
starts, what a first visit would wait for (ae/ui/warm.py): `make run`, the Dockerfile, the tests
and the bench serve it this way."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ENTRY = Path(__file__).resolve().parents[1] / "entry.py"


def main(argv: list[str] | None = None) -> int:
    from ae import runtime

    runtime.tune_for_serving()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)  # warming runs bare
    from streamlit.web import cli

    from ae.ui import warm

    warm.essentials()
    warm.start()
    sys.argv = ["streamlit", "run", str(ENTRY), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
