"""A small statechart interpreter with XState v5 semantics, for any chart given as a table of
states and transitions (lifecycle_table.py) and implementations by name: the deepest active state
handles an event first, then its ancestors; the first candidate whose guard passes is taken; exit
actions, then transition actions, then entry actions run in order; timers of ``after`` start on
entry and stop on exit; invoked actors start on entry and stop on exit; eventless ``always``
transitions follow each step. It knows nothing of the lifecycle chart (machine.py)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Protocol, Tuple, TypeVar

from .lifecycle_table import StateDef, TransitionDef

ChartEvent = Mapping[str, Any]
"""A fact for the chart, as in the TypeScript chart: ``{"type": "socket.closed", "code": 1006, "reason": ""}``.
Delayed events are ``{"type": "after", "delay": "retryDelay", "state": "reconnecting.waiting"}``."""


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], TimerHandle]
"""Runs a callback after a delay in ms (``loop.call_later`` on the monotonic loop clock)."""

C = TypeVar("C")


@dataclass(frozen=True)
class Implementations(Generic[C]):
    """A chart's guards, actions, delays and invoked actors by name. Actions and actors come bound
    to their owner; guards and delays read the context."""

    guards: Mapping[str, Callable[[C, ChartEvent], bool]]
    actions: Mapping[str, Callable[[ChartEvent], None]]
    delays: Mapping[str, Callable[[C], float]]
    invokes: Mapping[str, Tuple[Callable[[], None], Callable[[], None]]]
    """Each actor's start and stop."""


class Statechart(Generic[C]):
    """One running chart. ``send`` takes an event and runs it to completion; events sent from
    inside a step (an action that reports a fact) are queued and run right after it."""

    def __init__(
        self,
        context: C,
        implementations: Implementations[C],
        states: Tuple[StateDef, ...],
        transitions: Tuple[TransitionDef, ...],
        scheduler: Scheduler,
        on_change: Optional[Callable[["Statechart[C]"], None]] = None,
    ) -> None:
        self.context = context
        self._guards = implementations.guards
        self._actions = implementations.actions
        self._delays = implementations.delays
        self._invokes = implementations.invokes
        self._scheduler = scheduler
        self._on_change = on_change
        self._states = {s.id: s for s in states}
        self._by_source: Dict[Tuple[str, str], List[TransitionDef]] = {}
        for t in transitions:
            self._by_source.setdefault((t.source, t.event), []).append(t)
        self._timers: Dict[Tuple[str, str], TimerHandle] = {}
        # Delayed events raised by actions (XState `raise` with a delay and an id), by id.
        self._clocks: Dict[str, TimerHandle] = {}
        self._queue: List[ChartEvent] = []
        self._busy = False
        self.active: List[str] = []
        """Active state ids, outermost first (the root ``""`` included)."""
        self._run_steps(lambda: self._enter_from("", self._default_path("")))

    # -- what the outside reads ---------------------------------------------------------------

    @property
    def value(self) -> str:
        """The deepest active state, dotted: ``joined.live``."""
        return self.active[-1]

    @property
    def top(self) -> str:
        """The top-level state: ``joined`` for ``joined.live``."""
        return self.value.split(".")[0]

    def matches(self, state: str) -> bool:
        return state in self.active

    def pending_timers(self) -> List[Tuple[str, str]]:
        """(state, delay) of every running ``after`` timer."""
        return list(self._timers)

    def pending_clocks(self) -> List[str]:
        """Ids of running delayed events raised by actions (``outageClock``)."""
        return list(self._clocks)

    def start_clock(self, clock_id: str, ms: float, event: ChartEvent) -> None:
        """Send ``event`` to this machine after ``ms``, unless cancelled by id first."""
        self.cancel_clock(clock_id)

        def fire() -> None:
            self._clocks.pop(clock_id, None)
            self.send(event)

        self._clocks[clock_id] = self._scheduler(ms, fire)

    def cancel_clock(self, clock_id: str) -> None:
        handle = self._clocks.pop(clock_id, None)
        if handle is not None:
            handle.cancel()

    def stop(self) -> None:
        """Cancel every timer (the owner is going away)."""
        for handle in list(self._timers.values()) + list(self._clocks.values()):
            handle.cancel()
        self._timers.clear()
        self._clocks.clear()

    # -- running ------------------------------------------------------------------------------

    def send(self, event: ChartEvent) -> None:
        """Run one event to completion (queued if a step is running)."""
        self._queue.append(event)
        if self._busy:
            return
        self._run_steps(self._drain)

    def fire_timer(self, state: str, delay: str) -> None:
        """A timer of ``after`` fired (also how tests release a held timer)."""
        self._timers.pop((state, delay), None)
        self.send({"type": "after", "delay": delay, "state": state})

    def _drain(self) -> None:
        while self._queue:
            self._step(self._queue.pop(0))

    def _run_steps(self, body: Callable[[], None]) -> None:
        self._busy = True
        try:
            body()
        finally:
            self._busy = False
        if self._on_change is not None:
            self._on_change(self)

    def _step(self, event: ChartEvent) -> None:
        selected = self._select(event)
        if selected is not None:
            self._take(selected, event)
        self._settle_eventless(event)

    def _select(self, event: ChartEvent) -> Optional[TransitionDef]:
        if event["type"] == "after":
            # A delayed event belongs to the state that started the timer (XState names it after it).
            state = str(event.get("state", ""))
            if state not in self.active:
                return None
            sources = [state]
            key = f"after {event['delay']}"
        else:
            sources = list(reversed(self.active))
            key = str(event["type"])
        for source in sources:
            for candidate in self._by_source.get((source, key), []):
                if candidate.guard is None or self._guards[candidate.guard](self.context, event):
                    return candidate
        return None

    def _settle_eventless(self, event: ChartEvent) -> None:
        for _ in range(100):  # a chart whose `always` loops is a bug; stop rather than hang
            taken = False
            for source in reversed(self.active):
                for candidate in self._by_source.get((source, "always"), []):
                    if candidate.guard is None or self._guards[candidate.guard](self.context, event):
                        self._take(candidate, event)
                        taken = True
                        break
                if taken:
                    break
            if not taken:
                return

    def _take(self, t: TransitionDef, event: ChartEvent) -> None:
        if t.target is None:
            self._run_actions(t.actions, event)
            return
        domain = self._domain(t)
        for state in reversed(self.active):
            if state != domain and self._is_descendant(state, domain):
                self._exit(state, event)
        self.active = [s for s in self.active if s == domain or not self._is_descendant(s, domain)]
        self._run_actions(t.actions, event)
        path = self._path_between(domain, t.target) + self._default_path(t.target)
        for state in path:
            self._enter(state, event)

    def _domain(self, t: TransitionDef) -> str:
        """The state that is neither exited nor entered: the source itself when the target lies
        inside it (XState v5 ``reenter: false``), else the nearest ancestor holding both."""
        if not t.reenter and t.target != t.source and self._is_descendant(t.target or "", t.source):
            return t.source
        ancestor = self._states[t.source].parent
        while ancestor is not None and not self._is_descendant(t.target or "", ancestor):
            ancestor = self._states[ancestor].parent
        return ancestor or ""

    def _is_descendant(self, state: str, ancestor: str) -> bool:
        return ancestor == "" or state.startswith(ancestor + ".") or state == ancestor

    def _path_between(self, domain: str, target: str) -> List[str]:
        path: List[str] = []
        node: Optional[str] = target
        while node is not None and node != domain:
            path.insert(0, node)
            node = self._states[node].parent
        return path

    def _default_path(self, state: str) -> List[str]:
        path: List[str] = []
        initial = self._states[state].initial
        while initial is not None:
            path.append(initial)
            initial = self._states[initial].initial
        return path

    def _enter_from(self, root: str, path: List[str]) -> None:
        self.active = [root]
        for state in path:
            self._enter(state, {"type": "xstate.init"})

    def _enter(self, state: str, event: ChartEvent) -> None:
        self.active.append(state)
        definition = self._states[state]
        self._run_actions(definition.entry, event)
        for src in definition.invoke:
            self._invokes[src][0]()
        for delay in definition.after:
            ms = self._delays[delay](self.context)
            self._timers[(state, delay)] = self._scheduler(ms, functools.partial(self.fire_timer, state, delay))

    def _exit(self, state: str, event: ChartEvent) -> None:
        definition = self._states[state]
        for delay in definition.after:
            handle = self._timers.pop((state, delay), None)
            if handle is not None:
                handle.cancel()
        for src in definition.invoke:
            self._invokes[src][1]()
        self._run_actions(definition.exit, event)

    def _run_actions(self, names: Tuple[str, ...], event: ChartEvent) -> None:
        for name in names:
            self._actions[name](event)




class _NoTimer:
    def cancel(self) -> None:
        pass


def no_timers(ms: float, callback: Callable[[], None]) -> TimerHandle:
    """A scheduler that never fires: the chart runs on events alone (tests release timers by hand)."""
    return _NoTimer()
