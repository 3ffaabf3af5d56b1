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
