"""README.md's "First program", run as written: the gateway command and first.py are read from
the README and run. Two mechanical substitutions only: ``npx agent-lifeline`` runs the CLI from source,
and port 8790 becomes a free port, so parallel runs never meet. With no gateway, first.py says
why after its first attempt instead of waiting in silence."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Tuple

from conftest import PACKAGE_ROOT, REPO_ROOT


def code_blocks(heading: str) -> List[Tuple[str, str]]:
    text = (PACKAGE_ROOT / "README.md").read_text()
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


def test_the_first_program_runs_as_written(tmp_path: Path) -> None:
    blocks = code_blocks("First program")
    (lang_sh, gateway), (lang_py, program) = blocks
    assert (lang_sh, lang_py) == ("sh", "python")
    port = free_port()
    command = gateway.strip().replace("npx agent-lifeline", "node --import tsx src/cli/main.ts").replace("8790", str(port)).split()
    server = subprocess.Popen(command, cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(port)
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
        server.terminate()
        server.wait(timeout=10)


def test_the_first_program_says_why_when_no_gateway_runs(tmp_path: Path) -> None:
    (_, _), (_, program) = code_blocks("First program")
    script = tmp_path / "first.py"
    script.write_text(program.replace("8790", str(free_port())))
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    cause = re.compile(r"^error: connect_failed: Nothing accepts connections at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the gateway running", re.M)
    said: List[str] = []
    with subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None and child.stderr is not None
        errors = child.stderr
        reader = threading.Thread(target=lambda: said.extend(iter(errors.readline, "")), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 10.0
            while not cause.search("".join(said)):
                assert time.monotonic() < deadline, f"no cause on stderr within 10 s: {said}"
                time.sleep(0.05)
        finally:
            child.kill()
            child.wait(timeout=10)
            reader.join(timeout=5)
        stdout = child.stdout.read()
    # Said at the first failed attempt (the backoff starts at 0.25 s), not at connect()'s 30 s deadline.
    assert stdout.count("state: reconnecting") <= 2, stdout
