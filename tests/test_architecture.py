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


def _name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: str, names: set[str]) -> set[str]:
    """The modules of ae that a module imports, wherever in it (inside a function too, not under
    TYPE_CHECKING): `from ae.ui import catalog` is ae.ui.catalog, `from ae.rooms import Room` ae.rooms."""
    tree = ast.parse((ROOT / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                found |= {full} if full in names else {node.module} if node.module in names else set()
    return found - {_name(path)}


def _circle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of the graph, as the names along it; [] where there is none."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt, path + [nxt])):
                return found
        state[node] = 2
        return []

    return next((c for n in sorted(graph) if n not in state and (c := walk(n, [n]))), [])


def test_the_import_graph_has_no_circle_between_modules_or_packages():
    names = {_name(m) for m in MODULES}
    modules = {_name(m): _imported(m, names) for m in MODULES}
    assert _circle(modules) == []
    top = lambda name: ".".join(name.split(".")[:2])  # noqa: E731  ae.ui.catalog -> ae.ui
    packages: dict[str, set[str]] = {}
    for name, imported in modules.items():
        packages.setdefault(top(name), set()).update(top(i) for i in imported if top(i) != top(name))
    assert _circle(packages) == []
