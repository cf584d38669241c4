"""The dependency rule of DESIGN §4: bot → handlers → storage; scoring is pure.

Read from the source with `ast`, so a forbidden import anywhere (even inside a function) fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# storage may use scoring's types to store a snapshot: scoring is a pure leaf, so no cycle.
FORBIDDEN = {
    "scoring": {"bot", "handlers", "storage", "telegram", "sqlmodel", "sqlalchemy"},
    "storage": {"bot", "handlers", "telegram"},
    "handlers": {"bot"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offending == {}
