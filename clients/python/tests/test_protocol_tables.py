"""The protocol tables the client mirrors (close codes and their reactions, error codes and their
next steps) against the TypeScript ones (vectors/protocol.json, ``npm run chart``)."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List

from conftest import vectors

from lifeline_client import protocol
from lifeline_client.protocol import CLOSE_CODE_FOR_ERROR, CLOSE_CODE_TABLE, SERVER_WAIT_CLOSE_CODES, _ERROR_INFO, classify_close, close_means_too_big, is_terminal

TABLES = vectors("protocol.json")
PACKAGE = Path(protocol.__file__).parent


def test_close_code_for_each_wire_error() -> None:
    assert dict(CLOSE_CODE_FOR_ERROR) == TABLES["closeCodeForError"]


def test_the_reaction_to_each_close_code() -> None:
    assert {str(code): classify_close(int(code)) for code in TABLES["classifyClose"]} == TABLES["classifyClose"]


def test_each_error_code_and_its_next_step() -> None:
    ours = {code: {"recoverable": info[0], "nextStep": info[1]} for code, info in _ERROR_INFO.items()}
    assert ours == TABLES["errorInfo"]


def test_which_refusals_are_terminal() -> None:
    for case in TABLES["isTerminal"]:
        assert is_terminal(case["code"], case["nextStep"]) == case["terminal"], case


def test_which_closes_ask_the_client_to_wait() -> None:
    # The chart's mayRetryEarly: a visible page must not cut these waits short.
    assert sorted(SERVER_WAIT_CLOSE_CODES) == TABLES["closeAsksToWait"]


def test_which_closes_say_the_last_frame_was_too_big() -> None:
    # closeMeansTooBig: the client drops the largest unacknowledged message instead of resending it.
    codes = [int(code) for code in TABLES["classifyClose"]]
    assert sorted(code for code in codes if close_means_too_big(code)) == TABLES["closeMeansTooBig"]


def _python_name(ts_name: str) -> str:
    """``GoingAway`` -> ``CLOSE_GOING_AWAY``: the one naming rule between the two clients."""
    return "CLOSE_" + re.sub(r"(?<!^)(?=[A-Z])", "_", ts_name).upper()


def test_every_close_code_has_the_typescript_name() -> None:
    # One source of names: each row of CLOSE_CODE_TABLE in close-codes.ts is a CLOSE_ constant here.
    names: Dict[str, int] = TABLES["closeCodeNames"]
    missing = {name: code for name, code in names.items() if getattr(protocol, _python_name(name), None) != code}
    assert missing == {}


def test_each_named_close_code_has_a_reaction_row_and_no_name_is_used_twice() -> None:
    ours = {name: value for name, value in vars(protocol).items() if name.startswith("CLOSE_") and isinstance(value, int)}
    assert len(set(ours.values())) == len(ours), ours
    assert set(ours.values()) == set(CLOSE_CODE_TABLE), "a named close code without a reaction row, or a row without a name"
    ts_codes = set(TABLES["closeCodeNames"].values())
    for name, code in ours.items():
        if code in ts_codes:
            assert _python_name(next(n for n, c in TABLES["closeCodeNames"].items() if c == code)) == name


def test_no_dict_literal_in_the_package_repeats_a_key() -> None:
    # A repeated key silently keeps the last value: the tables once listed session_limit twice.
    repeated: List[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = [ast.dump(key) for key in node.keys if key is not None]
                repeated += [f"{path.name}:{node.lineno}" for key in set(keys) if keys.count(key) > 1]
    assert repeated == []
