"""The dependency runs one way: registry uses guides; guides uses nothing of ours, no database,
no HTTP. Only registry/web/ and registry/app.py import Litestar."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_guides_imports_no_database_web_or_registry():
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_modules(p) & {"piccolo", "litestar", "registry"})
        for p in (ROOT / "guides").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_web_adapter_imports_litestar():
    allowed = {ROOT / "registry" / "app.py"}
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "registry").rglob("*.py")
        if "litestar" in imported_modules(p)
        and p not in allowed
        and (ROOT / "registry" / "web") not in p.parents
    ]
    assert offenders == []
