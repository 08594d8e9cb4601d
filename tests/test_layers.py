"""The code's floor plan holds: folders are layers, imports only go down, no circles, and
the rules load without Prefect or the HubSpot client."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top: a package may import its own modules and the packages before it.
LAYERS = (
    "model",
    "config",
    "rules",
    "insights",
    "gateway",
    "runstate",
    "notify",
    "tasks",
    "flows",
    "bench",
)
ROOF = "leadops"  # the command and deploy: may import everything
APART = "sandbox"  # the local HubSpot: imports nothing of the product
PACKAGES = (*LAYERS, ROOF, APART)


def imports_of(path: Path) -> set[str]:
    """Every project module a file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
}


def allowed(importer: str, imported: str) -> bool:
    if importer in (imported, ROOF):
        return True
    if imported == APART:
        return importer == "bench"  # the bench serves a sandbox to measure against
    if importer == APART:
        return False
    return LAYERS.index(imported) <= LAYERS.index(importer)


def test_imports_only_go_down_the_layers() -> None:
    upward = [
        f"{module} imports {target}"
        for module, path in MODULES.items()
        for target in imports_of(path)
        if not allowed(module.split(".")[0], target.split(".")[0])
    ]
    assert upward == []


def test_no_module_imports_itself_back_through_others() -> None:
    graph = {
        module: {t for t in imports_of(path) if t in MODULES and t != module}
        for module, path in MODULES.items()
    }
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in trail:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    assert circles == []


@pytest.mark.parametrize("module", ["rules.registry", "rules.promote", "model.changes"])
def test_rules_load_without_prefect_or_the_hubspot_client(module: str) -> None:
    heavy = ("prefect", "hubspot", "urllib3", "requests")
    code = (
        f"import sys, {module}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
