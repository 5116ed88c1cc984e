"""Shared fixtures: the package from this checkout, the exported chart and vectors."""
from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))
sys.path.insert(0, str(HERE))


def load_json(relative: str) -> Any:
    """A file of the repository, e.g. ``schema/client-chart.json``."""
    return json.loads((REPO_ROOT / relative).read_text())


def vectors(name: str) -> Any:
    """A vector file written by ``npm run chart``."""
    return json.loads((HERE / "vectors" / name).read_text())


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def harness():  # type: ignore[no-untyped-def]
    """One Node gateway harness for the whole session (each test opens its own stage)."""
    from support import Harness

    running = Harness()
    yield running
    running.close()
