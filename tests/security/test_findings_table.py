"""tests/security/FINDINGS.md maps every finding of issue 11 to the tests that show it contained;
each test it names must exist, so the table cannot point at a renamed or deleted test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TABLE = Path(__file__).with_name("FINDINGS.md")
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_finding_names_tests_that_exist() -> None:
    text = TABLE.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| [0-9O]+[a-z]? \|", line)]
    assert len(rows) >= 26  # findings 1-12 (with their parts) and the four output findings
    assert all(REFERENCE.search(row) for row in rows), [r for r in rows if not REFERENCE.search(r)]
    missing = [
        f"{file}::{name}"
        for file, name in REFERENCE.findall(text)
        if not (ROOT / file).is_file() or name not in _tests_in(ROOT / file)
    ]
    assert missing == []
