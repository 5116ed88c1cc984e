"""The pure parts and the lifecycle against vectors exported from the TypeScript code
(``npm run chart``): model-based paths, backoff, gap-tracker decisions, outbox behaviour and the
node each attempt goes to, where a token goes and how it is hidden."""
from __future__ import annotations

import asyncio
import math
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import vectors

from lifeline_client.backoff import backoff_delay, plan_retry
from lifeline_client.connect_failure import describe_failure
from lifeline_client.credentials import auth_required_hint, place_token, redact_tokens, scrub_secret
from lifeline_client.errors import GatewayConnectError
from lifeline_client.gap_tracker import GapTracker, HandshakeAnswer
from lifeline_client.gateway_urls import UrlContext, UrlPicker, gateway_url, gateway_url_problem
from lifeline_client.machine import InertPorts, Lifecycle
from lifeline_client.outbox import Outbox
from lifeline_client.types import CloseInfo, GapInfo, GatewayEvent

MODEL_PATHS = vectors("model-paths.json")


def normalise(value: Any) -> Any:
    """JSON has no infinity and no difference between 2000 and 2000.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


@pytest.mark.parametrize("path", MODEL_PATHS, ids=[f"{i + 1}-{p['profile']}-{p['purpose']}" for i, p in enumerate(MODEL_PATHS)])
def test_model_path(path: Dict[str, Any]) -> None:
    given = path["input"]
    reconnect = given["reconnect"]
    machine = Lifecycle.create(
        reconnect=False if reconnect is False else reconnect,
        handshake_timeout_ms=given["handshakeTimeoutMs"],
        online=given["online"],
        random=lambda: given["random"],
        refreshable_token=given["refreshableToken"],
    )
    for n, step in enumerate(path["steps"]):
        event = step["event"]
        if event["type"] == "after":
            pending = [state for state, delay in machine.pending_timers() if delay == event["delay"]]
            assert len(pending) == 1, f"step {n + 1}: no single running {event['delay']} timer in {machine.value}"
            machine.fire_timer(pending[0], event["delay"])
        else:
            machine.send(event)
        after = step["after"]
        assert machine.value == after["value"], f"step {n + 1} ({event}): state"
        assert normalise(machine.context.as_vector()) == normalise(after["context"]), f"step {n + 1} ({event}): context"


def test_backoff_vectors() -> None:
    for case in vectors("backoff.json"):
        options = {k: (math.inf if v is None else v) for k, v in case["options"].items()}
        got = backoff_delay(case["attempt"], options, lambda: case["random"])
        assert got == case["delay"], case


def test_retry_schedule_vectors() -> None:
    """The retry plan by tier: a backoff step, a probe cutting it short, the rest carried, a floor."""
    for case in vectors("retry.json"):
        draws = list(case["randoms"])
        wait, left = plan_retry(case["failures"], case["leftMs"], case["tier"], case["options"], lambda: draws.pop(0) if draws else 0.0, case["floorMs"])
        assert (wait, left) == (case["waitMs"], case["planLeftMs"]), case


def _answer(data: Dict[str, Any]) -> HandshakeAnswer:
    return HandshakeAnswer(data["sessionId"], data["resumed"], data["head"], data.get("epoch"), data.get("oldest"), data.get("gap"), data["resyncRequired"])


@pytest.mark.parametrize("script", vectors("gap-tracker.json"))
def test_gap_tracker_vectors(script: Dict[str, Any]) -> None:
    out: List[Any] = []

    def on_event(event: GatewayEvent) -> bool:
        out.append({"event": event.seq, "replayed": event.replayed})
        return True

    def on_gap(gap: GapInfo) -> None:
        out.append({"gap": {"expected": gap.expected, "received": gap.received, "reason": gap.reason}})

    tracker = GapTracker(on_event, on_gap, script["sessionId"])
    for n, step in enumerate(script["steps"]):
        op = step["op"]
        out.clear()
        result: Any = None
        if op["op"] == "resumeRequest":
            result = tracker.resume_request()
        elif op["op"] == "handshake":
            tracker.handshake(_answer(op["answer"]))
        elif op["op"] == "accept":
            tracker.accept(op["seq"], {"type": "t", "data": op["seq"]}, op["replayed"], op["epoch"], None)
        elif op["op"] == "caughtUp":
            tracker.caught_up(op["epoch"])
        elif op["op"] == "snapshot":
            tracker.snapshot(op["cursor"], op["epoch"])
        elif op["op"] == "forgetSession":
            tracker.forget_session()
        resume = None if tracker.resume is None else {"mode": tracker.resume.mode, "from": tracker.resume.start, "to": tracker.resume.head}
        got = {"result": result, "out": out, "after": {"sessionId": tracker.session_id, "cursor": tracker.cursor, "epoch": tracker.epoch, "resume": resume}}
        want = {"result": step["result"], "out": step["out"], "after": step["after"]}
        assert got == want, f"step {n + 1}: {op}"


@pytest.mark.parametrize("script", vectors("outbox.json"))
async def test_outbox_vectors(script: Dict[str, Any]) -> None:
    counter = 0

    def make_id() -> str:
        nonlocal counter
        counter += 1
        return f"m{counter}"

    outbox = Outbox(script["maxMessages"], make_id)
    settled: List[Any] = []

    def track(label: str, future: "asyncio.Future[Any]") -> None:
        def done(f: "asyncio.Future[Any]") -> None:
            error = f.exception()
            if isinstance(error, GatewayConnectError):
                rejected: Dict[str, Any] = {"id": label, "rejected": error.code}
                if error.close_code is not None:
                    rejected["closeCode"] = error.close_code
                settled.append(rejected)
            else:
                r = f.result()
                settled.append({"id": label, "resolved": {"id": r.id, "duplicate": r.duplicate, "acknowledged": r.acknowledged}})

        future.add_done_callback(done)

    for n, step in enumerate(script["steps"]):
        op = step["op"]
        written: List[Any] = []
        budget = op["okWrites"] if op["op"] == "flush" else (1 if op["op"] == "writeOne" and op["ok"] else 0)

        def write(frame: Dict[str, Any]) -> bool:
            nonlocal budget
            if budget <= 0:
                return False
            budget -= 1
            written.append({"id": frame["id"], "content": frame["content"]})
            return True

        settled.clear()
        learned: Optional[int] = None
        if op["op"] == "add":
            message_id, future = outbox.add(op["content"], op.get("maxBytes"))
            track(message_id or f"rejected:{op['content']}", future)
        elif op["op"] == "flush":
            outbox.flush(write, op["acks"], op.get("maxBytes"))
        elif op["op"] == "writeOne":
            outbox.write_one(f"m{op['pick']}", write, op["acks"])
        elif op["op"] == "ack":
            outbox.ack(f"m{op['pick']}", op["duplicate"])
        elif op["op"] == "fail":
            outbox.fail(f"m{op['pick']}", GatewayConnectError("payload_too_large", "too big"))
        elif op["op"] == "rejectAll":
            outbox.reject_all(GatewayConnectError("client_closed", "closed"))
        elif op["op"] == "tooBig":
            learned = outbox.refuse_largest_in_flight(op["closeCode"])
        await asyncio.sleep(0)  # let done-callbacks run, as the exporter lets promise callbacks run
        got = {"written": written, "settled": settled, "size": outbox.size, "learned": learned}
        assert got == {"written": step["written"], "settled": step["settled"], "size": step["size"], "learned": step["learned"]}, f"step {n + 1}: {op}"


URL_VECTORS = vectors("gateway-urls.json")


def test_gateway_url_problems_and_mapping_vectors() -> None:
    for case in URL_VECTORS["problems"]:
        assert gateway_url_problem(case["url"]) == case["problem"], case
    for case in URL_VECTORS["mapped"]:
        assert gateway_url(case["url"]) == case["mapped"], case


def test_token_placement_and_redaction_vectors() -> None:
    """Both clients open the same URL for a token, say the same after auth_required, and hide the same."""
    for case in URL_VECTORS["tokens"]:
        placement = place_token(case["url"], case["token"])
        assert (placement.url, placement.in_hello, placement.in_url) == (case["opened"], case["inHello"], case["inUrl"]), case
        assert auth_required_hint(placement) == case["authHint"], case
    for case in URL_VECTORS["redacted"]:
        assert redact_tokens(case["text"]) == case["redacted"], case
        assert scrub_secret(case["text"], "peer-test-token-1") == case["scrubbed"], case


def test_connect_failure_vectors() -> None:
    """A failed attempt says the same in both clients, for the same cause, and never shows a token."""
    for case in URL_VECTORS["failures"]:
        error, short = describe_failure(case["code"], case["message"], case["url"], case["closeCode"])
        assert {"code": error.code, "message": error.message, "nextStep": error.next_step, "closeCode": error.close_code} == case["error"], case
        assert short == case["short"], case


class _AttemptPorts(InertPorts):
    """Records each ``openSocket`` with what the client would tell the url function then."""

    def __init__(self) -> None:
        self.machine: Optional[Lifecycle] = None
        self.opened: List[Tuple[int, Optional[CloseInfo]]] = []

    def open_socket(self, handshake: str, attempt: int) -> None:
        assert self.machine is not None
        last = self.machine.context.last_close
        self.opened.append((attempt, None if last is None else CloseInfo(last["code"], last["reason"])))


def _context_data(context: UrlContext) -> Dict[str, Any]:
    last = context.last_close
    return {
        "attempt": context.attempt,
        "previousUrl": context.previous_url,
        "lastClose": None if last is None else {"code": last.code, "reason": last.reason},
        "drain": context.drain,
    }


@pytest.mark.parametrize("script", URL_VECTORS["failover"], ids=[s["purpose"][:40] for s in URL_VECTORS["failover"]])
async def test_failover_vectors(script: Dict[str, Any]) -> None:
    """Both clients send each attempt to the same node, and tell a url function the same facts."""
    ports = _AttemptPorts()
    given = script["input"]
    machine = Lifecycle.create(reconnect=given["reconnect"], random=lambda: float(given["random"]), ports=ports)
    ports.machine = machine
    listed = UrlPicker(script["urls"])
    asked: List[UrlContext] = []
    chosen: List[str] = []

    def ask(context: UrlContext) -> str:
        asked.append(context)
        return chosen[-1]

    function = UrlPicker(ask)
    for n, step in enumerate(script["steps"]):
        event = step["event"]
        if event["type"] == "after":
            pending = {state for state, delay in machine.pending_timers() if delay == event["delay"]}
            assert len(pending) == 1, f"step {n + 1}: no single running {event['delay']} timer in {machine.value}"
            machine.fire_timer(pending.pop(), event["delay"])
        else:
            machine.send(event)
        assert machine.value == step["value"], f"step {n + 1} ({event}): state"
        expected = step["attempt"]
        assert len(ports.opened) <= 1, f"step {n + 1}: more than one attempt"
        if expected is None:
            assert ports.opened == [], f"step {n + 1} ({event}): an attempt the vector does not have"
            continue
        assert ports.opened, f"step {n + 1} ({event}): no attempt"
        attempt, last_close = ports.opened.pop()
        chosen.append(await listed.next(attempt, last_close))
        assert chosen[-1] == expected["url"], f"step {n + 1}: the list's node"
        assert await function.next(attempt, last_close) == expected["url"]
        assert _context_data(asked[-1]) == expected["context"], f"step {n + 1}: what the url function is told"
