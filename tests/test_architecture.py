"""docs/architecture.md stays true: every module it names exists, every module of ae/ is named in
it, and Streamlit is imported only where it says."""

import ast
import re

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()
MODULES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "ae").rglob("*.py"))
STREAMLIT_ALLOWED = ("ae/ui/", "ae/live/", "ae/serve.py", "ae/runtime.py")


def test_every_path_the_document_names_exists():
    named = set(re.findall(r"`((?:ae|app_pages|bench|scripts|tests|docs)/[\w/.<>-]*)`", DOC))
    missing = [p for p in named if "<" not in p and not (ROOT / p).exists()]
    assert missing == []


def test_every_module_of_ae_is_named_in_the_document():
    unnamed = [m for m in MODULES if m not in DOC and not (m.endswith("__init__.py") and m.rsplit("/", 1)[0] + "/" in DOC)]
    assert unnamed == []


def _imports_streamlit(path) -> bool:
    tree = ast.parse((ROOT / path).read_text())
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
            return True
    return False


def test_streamlit_is_imported_only_where_the_document_says():
    assert [m for m in MODULES if _imports_streamlit(m) and not m.startswith(STREAMLIT_ALLOWED)] == []
    for place in STREAMLIT_ALLOWED:
        assert f"`{place.rstrip('/')}" in DOC or f"`{place}" in DOC
