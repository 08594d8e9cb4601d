"""RELIABILITY.md names the test behind every row: each one must exist (and so run in
`make test`), so the table cannot silently outlive its tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def test_every_row_names_a_test_that_exists() -> None:
    text = (ROOT / "RELIABILITY.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    rows = [row for row in rows if not row.startswith(("| Fault |", "| Input |"))]
    assert len(rows) >= 40
    for row in rows:
        references = _REFERENCE.findall(row)
        assert references, f"row without a test: {row[:80]}"
        for path, name, case in references:
            source = (ROOT / path).read_text(encoding="utf-8")
            functions = {
                node.name
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.FunctionDef)
            }
            assert name in functions, f"{path}::{name} does not exist"
            if case:
                assert case in source, f"{path}::{name}[{case}] names no case in the file"
