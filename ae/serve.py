"""The app served: `python -m ae.serve [streamlit options]` runs `streamlit run app.py` with
them, and warms in the background, as the server starts, what a first visit would wait for
(ae/ui/warm.py): `make run`, the Dockerfile and the tests serve it this way."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: list[str] | None = None) -> int:
    from ae import runtime

    runtime.tune_for_serving()  # before torch loads, as app.py does
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)  # warming runs bare
    from streamlit.web import cli

    from ae.ui import warm

    warm.essentials()
    warm.start()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
