"""Small modules named for what they do: a module of the package past about 300 lines says why in
its header, and the lifecycle's interpreter knows nothing of the lifecycle chart."""
from __future__ import annotations

import ast
from pathlib import Path

import lifeline_client

PACKAGE = Path(lifeline_client.__file__).parent
LIMIT = 320
"""About 300 lines: a module past this must say "Over 300 lines because" in its docstring."""


def test_a_long_module_says_why_in_its_header() -> None:
    unexplained = []
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        header = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > LIMIT and "Over 300 lines because" not in " ".join(header.split()):
            unexplained.append(path.name)
    assert unexplained == []


def test_the_interpreter_imports_no_chart_implementation() -> None:
    tree = ast.parse((PACKAGE / "statechart.py").read_text(encoding="utf-8"))
    own = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}
    assert own <= {"lifecycle_table"}, own
