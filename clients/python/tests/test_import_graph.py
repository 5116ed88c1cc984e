"""No import circle inside ``lifeline_client``, type-only imports (under ``if TYPE_CHECKING:``) and
imports inside functions included. Each module's imports are read with ``ast``, never run, so an
import Python would defer or skip still counts. (PyPI is not reachable here, so no third-party tool.)"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parent.parent / "lifeline_client"


def module_names(package: Path) -> Dict[str, Path]:
    """Every module of the package by dotted name; ``__init__.py`` is the package itself."""
    root = package.parent
    names: Dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    """The package's own modules that ``name`` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # `from . import x` and `from .pkg import mod` import the submodule itself.
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif target in modules:
                    found.add(target)
    found.discard(name)
    return found


def import_graph(package: Path) -> Dict[str, Set[str]]:
    modules = module_names(package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph.get(node, set())):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component: List[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_a_type_only_circle_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .client import Client\n")
    (package / "client.py").write_text("from .types import Options\n\nclass Client: ...\n")
    (package / "types.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg.client import Client\n\nclass Options: ...\n"
    )
    (package / "leaf.py").write_text("from . import types\n")
    graph = import_graph(package)
    assert graph["pkg.leaf"] == {"pkg.types"}
    assert cycles(graph) == [["pkg.client", "pkg.types"]]


def test_lifeline_client_has_no_import_circle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 10
    assert "lifeline_client.client" in graph["lifeline_client"]
    assert cycles(graph) == []
