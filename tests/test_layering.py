"""The dependency direction of STYLE.md, checked by reading each module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tracker"
FLASK_FREE = [
    "models",
    "services",
    "feeds",
    "matching",
    "partners",
    "config.py",
    "db.py",
    "errors.py",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(entry: str) -> list[Path]:
    path = ROOT / entry
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("entry", FLASK_FREE)
def test_core_packages_do_not_import_flask(entry: str) -> None:
    offenders = [
        str(p) for p in _modules(entry) if {"flask", "flask_babel", "werkzeug"} & _imports(p)
    ]
    assert offenders == []


def test_tracker_never_imports_jobs() -> None:
    offenders = [str(p) for p in ROOT.rglob("*.py") if "jobs" in _imports(p)]
    assert offenders == []


WALL_CLOCK_READS = ("datetime.now(", "utcnow(", "date.today(", "datetime.today(", "time.time(")


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    """Views, services, jobs and the CLI take "now" from the clock they are given, so what a
    page or a digest says never depends on the day the code runs but on the injected clock."""
    roots = [ROOT, ROOT.parent / "jobs"]
    offenders = [
        f"{path.relative_to(ROOT.parent)}: {needle}"
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if path != ROOT / "clock.py"
        for needle in WALL_CLOCK_READS
        if needle in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Every node under ``if TYPE_CHECKING:``; its imports never run."""
    nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            nodes.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return nodes


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                for alias in node.names:
                    # The most specific module named: ``from X import Y`` is X.Y when
                    # that is a module, so a package's __init__ is not dragged in.
                    submodule = f"{module}.{alias.name}"
                    targets.add(submodule if submodule in paths else module)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle a depth-first walk meets, each once, as ``[a, b, a]``."""
    circles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                circle = [*path[path.index(nxt) :], nxt]
                if (key := frozenset(circle)) not in seen:
                    seen.add(key)
                    circles.append(circle)
            elif nxt not in done:
                visit(nxt)
        path.pop()
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start)
    return circles


def test_the_circle_check_finds_circles() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [
        ["a", "b", "a"],
        ["c", "d", "c"],
    ]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    """No module of tracker reaches itself again through its imports.

    Imports inside functions count: they only postpone a circle to the first call.
    Imports under ``if TYPE_CHECKING:`` do not, since they never run; the typed models
    name each other there for their ``Mapped["X"]`` annotations, as SQLAlchemy documents.
    ``from X import Y`` depends on the module X.Y when there is one, otherwise on X.
    """
    graph = _import_graph()
    assert "tracker.models.sources" in graph["tracker.models.calls"]
    # Imported only inside the command functions, and still an edge.
    assert "tracker.services.strategy" in graph["tracker.cli.match"]
    # The back-reference's annotation, under TYPE_CHECKING: no edge.
    assert "tracker.models.calls" not in graph["tracker.models.sources"]
    circles = _circles(graph)
    assert circles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)
