"""python -m ae.train: the command line (ae/train/cli.py)."""

import sys

from ae.train.cli import main

sys.exit(main())
