"""The Python lifecycle table against the chart exported from the TypeScript machine
(schema/client-chart.json, written by ``npm run chart``), transition by transition."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from conftest import load_json

from lifeline_client.lifecycle_table import STATES, TRANSITIONS
from lifeline_client.machine import ACTIONS, DELAYS, GUARDS, INVOKES

CHART = load_json("schema/client-chart.json")


def chart_transitions() -> List[Tuple[Any, ...]]:
    rows: List[Tuple[Any, ...]] = []
    for t in CHART["transitions"]:
        assert len(t["targets"]) <= 1, f"{t}: multiple targets are not supported by the Python machine"
        rows.append((t["source"], t["event"], t["guard"], t["targets"][0] if t["targets"] else None, tuple(t["actions"]), t["reenter"]))
    return rows


def python_transitions() -> List[Tuple[Any, ...]]:
    return [(t.source, t.event, t.guard, t.target, t.actions, t.reenter) for t in TRANSITIONS]


def test_every_chart_transition_is_in_the_python_table_in_order() -> None:
    ours = python_transitions()
    theirs = chart_transitions()
    missing = [t for t in theirs if t not in ours]
    extra = [t for t in ours if t not in theirs]
    assert missing == [], f"transitions in the chart but not in lifeline_client/lifecycle_table.py: {missing}"
    assert extra == [], f"transitions in lifeline_client/lifecycle_table.py that the chart no longer has: {extra}"
    # Candidates for one (source, event) are tried in order, so the order is part of the meaning.
    def grouped(rows: List[Tuple[Any, ...]]) -> Dict[Tuple[str, str], List[Tuple[Any, ...]]]:
        out: Dict[Tuple[str, str], List[Tuple[Any, ...]]] = {}
        for row in rows:
            out.setdefault((row[0], row[1]), []).append(row)
        return out

    assert grouped(ours) == grouped(theirs)


def test_every_chart_state_is_in_the_python_table() -> None:
    theirs = {s["id"]: (s["parent"], s["initial"], tuple(s["entry"]), tuple(s["exit"]), tuple(s["invoke"]), tuple(s["after"])) for s in CHART["states"]}
    ours = {s.id: (s.parent, s.initial, s.entry, s.exit, s.invoke, s.after) for s in STATES}
    assert ours == theirs


def test_every_named_guard_action_delay_and_actor_has_a_python_implementation() -> None:
    guards = {t["guard"] for t in CHART["transitions"] if t["guard"] is not None}
    actions = {a for t in CHART["transitions"] for a in t["actions"]} | {a for s in CHART["states"] for a in s["entry"] + s["exit"]}
    delays = {d for s in CHART["states"] for d in s["after"]}
    invokes = {i for s in CHART["states"] for i in s["invoke"]}
    assert sorted(guards - set(GUARDS)) == []
    assert sorted(actions - set(ACTIONS)) == []
    assert sorted(delays - set(DELAYS)) == []
    assert sorted(invokes - set(INVOKES)) == []
