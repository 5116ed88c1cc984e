"""The READMEs' Python programs, run as written: clients/python/README.md's "First program" (its
gateway command and first.py) and README.md's "Python" quickstart. Mechanical substitutions only:
``npx agent-lifeline`` runs the CLI from source, port 8790 becomes a free port (so parallel runs
never meet), and against the PraisonAI stand-in the URL, agent and token are its own. With no
gateway, first.py says why after its first attempt instead of waiting in silence; the quickstart
reports a gap honestly on both gateways, and says so where resync is not offered."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

from conftest import PACKAGE_ROOT, REPO_ROOT

QUICKSTART_URL = '"ws://127.0.0.1:8790"'
QUICKSTART_AGENT = 'agent_id="demo"'


def code_blocks(heading: str, readme: Path = PACKAGE_ROOT / "README.md") -> List[Tuple[str, str]]:
    text = readme.read_text()
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else None]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", section, re.S)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the gateway did not listen on {port} within {timeout}s")


def start_gateway(command: str, port: int) -> "subprocess.Popen[bytes]":
    """``npx agent-lifeline gateway …`` from the README, run from source on ``port``."""
    words = command.strip().replace("npx agent-lifeline", "node --import tsx src/cli/main.ts").replace("8790", str(port)).split()
    server = subprocess.Popen(words, cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return server


def stop(process: "subprocess.Popen[Any]") -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Running:
    """A Python program of a README, its stdout and stderr read line by line as it runs."""

    def __init__(self, program: str, tmp_path: Path) -> None:
        script = tmp_path / "program.py"
        script.write_text(program)
        env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
        self.child = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: List[str] = []
        self.err: List[str] = []
        assert self.child.stdout is not None and self.child.stderr is not None
        self._readers = [self._read(self.child.stdout, self.out), self._read(self.child.stderr, self.err)]

    @staticmethod
    def _read(stream: Any, into: List[str]) -> threading.Thread:
        reader = threading.Thread(target=lambda: into.extend(iter(stream.readline, "")), daemon=True)
        reader.start()
        return reader

    def wait_for(self, pattern: str, stream: str = "out", timeout: float = 15.0) -> None:
        """Wait until a line of ``stream`` matches ``pattern``; fail naming both streams after ``timeout``."""
        lines = self.out if stream == "out" else self.err
        found = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while not found.search("".join(lines)):
            assert self.child.poll() is None or time.monotonic() < deadline, f"exited ({self.child.returncode}) before {pattern!r}"
            assert time.monotonic() < deadline, f"no {pattern!r} on {stream} within {timeout} s:\nstdout: {''.join(self.out)}\nstderr: {''.join(self.err)}"
            time.sleep(0.05)

    def stop(self) -> None:
        self.child.kill()
        self.child.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        assert self.child.stdout is not None and self.child.stderr is not None
        self.child.stdout.close()
        self.child.stderr.close()


def test_the_first_program_runs_as_written(tmp_path: Path) -> None:
    blocks = code_blocks("First program")
    (lang_sh, gateway), (lang_py, program) = blocks
    assert (lang_sh, lang_py) == ("sh", "python")
    port = free_port()
    server = start_gateway(gateway, port)
    try:
        script = tmp_path / "first.py"
        script.write_text(program.replace("8790", str(port)))
        env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
        result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[:3] == ["state: connecting", "state: negotiating", "state: joined"]
        assert lines[3].startswith("sent ") and lines[3].endswith("duplicate: False")
        kinds = [line.split()[1] for line in lines[4:] if line[:1].isdigit()]
        assert kinds[0] == "message" and "token" in kinds and kinds[-1] == "reply", lines
        assert lines[-1] == "state: disconnected"
    finally:
        stop(server)


def test_the_first_program_says_why_when_no_gateway_runs(tmp_path: Path) -> None:
    (_, _), (_, program) = code_blocks("First program")
    first = Running(program.replace("8790", str(free_port())), tmp_path)
    try:
        first.wait_for(r"^error: connect_failed: Nothing accepts connections at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the gateway running", "err", timeout=10.0)
    finally:
        first.stop()
    # Said at the first failed attempt (the backoff starts at 0.25 s), not at connect()'s 30 s deadline.
    assert "".join(first.out).count("state: reconnecting") <= 2, first.out


def quickstart() -> str:
    [(lang, program)] = code_blocks("Python", REPO_ROOT / "README.md")
    assert lang == "python" and QUICKSTART_URL in program and QUICKSTART_AGENT in program
    return program


def test_the_quickstart_against_the_reference_gateway_reports_a_restart_and_resyncs(harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The gateway `agent-lifeline gateway` runs (demo agent, memory log), in a story stage whose
    # restart is fast; the first program's test runs the command itself.
    stage = harness.request({"op": "stage", "setup": {}})
    program = Running(quickstart().replace(QUICKSTART_URL, f'"{stage["url"]}"'), tmp_path)
    try:
        program.wait_for(r"^\d+ reply ")
        # Restart the gateway without its log: a new history (epoch), reported as such, then resynced.
        harness.request({"op": "call", "stage": stage["stage"], "method": "bootGateway", "args": [{"keepLog": False}]})
        program.wait_for(r"^gateway history was reset$")
        program.wait_for(r"^resynced at \d+$")
    finally:
        program.stop()
        harness.request({"op": "close", "stage": stage["stage"]})
    assert "missed" not in "".join(program.out), program.out
    assert "Task exception was never retrieved" not in "".join(program.err), program.err


def test_the_quickstart_against_praisonai_reports_the_gap_and_says_resync_is_not_offered(harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    token = "peer-test-token-quickstart"
    # Two persisted events per session, so turns answered while the client is away fall out.
    stage = harness.request({"op": "praisonai", "token": token, "persisted": 2})

    def call(method: str, *args: Any) -> None:
        harness.request({"op": "praisonaiCall", "praisonai": stage["praisonai"], "method": method, "args": list(args)})

    program = Running(quickstart().replace(QUICKSTART_URL, f'"{stage["url"]}"').replace(QUICKSTART_AGENT, f'agent_id="echo", token="{token}"'), tmp_path)
    try:
        program.wait_for(r"^2 response ")  # PraisonAI's answer to "hello": accepted, then final
        call("refuse", True)
        call("drop")
        program.wait_for(r"^error: connect_failed: ", "err")  # away, and saying why
        call("publish", 5)  # turns 3..7 answered meanwhile; only 6 and 7 are kept
        call("refuse", False)
        program.wait_for(r"^missed 3\.\.5$")
        program.wait_for(r"^no resync: This gateway offers no resync method")
        program.wait_for(r"^7 response ")
    finally:
        program.stop()
        harness.request({"op": "closePraisonAI", "praisonai": stage["praisonai"]})
    said = "".join(program.out + program.err)
    assert "Task exception was never retrieved" not in said, said
    assert token not in said, "a token never shows"
