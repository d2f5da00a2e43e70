"""The dependency runs one way: registry uses guides; guides uses nothing of ours, no database,
no HTTP. Only registry/web/ and registry/app.py import Litestar."""

from __future__ import annotations

import ast
import re
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


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Our modules and the modules of ours each imports (at any depth: lazy imports count)."""
    files = [
        p
        for package in ("registry", "guides")
        for p in (ROOT / package).rglob("*.py")
        if "piccolo_migrations" not in p.parts
    ]
    modules = {_module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from registry.editions import store` imports the module registry.editions.store
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(f"{target}."):
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_import_graph_sees_lazy_and_package_imports():
    graph = import_graph()
    assert "registry.editions.store" in graph["registry.editions.commands"]
    assert "registry.upgrade" in graph["registry.cli"]  # imported inside a function


def test_templates_build_every_address_with_the_url_builder():
    """No literal paths: `urls.*` (guides/urls.py) or Litestar's url_for, so an address is written once."""
    literal = re.compile(r"""(?:href|action|src|hx-get|hx-post)=["']/""")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in (ROOT / "templates").rglob("*.html")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if literal.search(line)
    ]
    assert offenders == []
