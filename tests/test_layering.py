"""The dependency direction of STYLE.md, checked by reading each module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tracker"
FLASK_FREE = ["models", "services", "feeds", "matching", "config.py", "db.py", "errors.py"]


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
