"""tracker.matching is pure: no Flask, no SQLAlchemy, no database."""

from __future__ import annotations

import ast
from pathlib import Path

import tracker.matching

FORBIDDEN = ("flask", "sqlalchemy", "tracker.models", "tracker.services", "tracker.views")


def test_matching_modules_import_neither_flask_nor_the_database() -> None:
    package = Path(tracker.matching.__file__).parent
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{module.name} imports {name}"
