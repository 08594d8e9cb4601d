"""RELIABILITY.md names the test behind every row: each one must exist (and so run in
`make test`), so the table cannot silently outlive its tests."""

from __future__ import annotations

import ast
import importlib
import itertools
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def case_ids(test: Callable[..., object]) -> set[str]:
    """The ids pytest gives the cases of `test`: `ids=`, `pytest.param(id=)`, or the value."""
    per_mark = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        ids = mark.kwargs.get("ids")
        per_mark.append(
            [
                str(ids[i]) if ids is not None else getattr(value, "id", None) or str(value)
                for i, value in enumerate(mark.args[1])
            ]
        )
    return {"-".join(combination) for combination in itertools.product(*per_mark)}


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
                # The test modules sit on sys.path under their own names (pytest's rootdir
                # import mode), so this is the module pytest collected.
                test = getattr(importlib.import_module(Path(path).stem), name)
                assert case in case_ids(test), f"{path}::{name}[{case}] is not one of its cases"
