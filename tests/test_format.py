"""One formatter, ruff's (ruff.toml; `make format`): the tree is as it formats it, and its lint is clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, missing


def _ruff() -> str:
    found = Path(sys.executable).with_name("ruff")
    if not found.exists() and shutil.which("ruff") is None:
        missing("this test needs ruff: pip install -r requirements-dev.txt")
    return str(found) if found.exists() else shutil.which("ruff")


def test_the_tree_is_as_ruff_formats_it():
    done = subprocess.run([_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruffs_lint_finds_nothing():
    done = subprocess.run([_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


HOUSE_THIRD_PASS = "98f78b4"  # from here on, commit subjects are short (issue 31)


def test_commit_subjects_fit_in_72_characters():
    out = subprocess.run(["git", "log", "--format=%h %s", f"{HOUSE_THIRD_PASS}..HEAD"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"no git history here: {out.stderr.strip()[:200]}")
    long = [line for line in out.stdout.splitlines() if len(line.split(" ", 1)[1]) > 72]
    assert not long, "subjects over 72 characters (the why goes in the body):\n" + "\n".join(long)
