"""The protocol tables the client mirrors (close codes and their reactions, error codes and their
next steps) against the TypeScript ones (vectors/protocol.json, ``npm run chart``)."""
from __future__ import annotations

from conftest import vectors

from lifeline_client.protocol import CLOSE_CODE_FOR_ERROR, SERVER_WAIT_CLOSE_CODES, _ERROR_INFO, classify_close, close_means_too_big, is_terminal

TABLES = vectors("protocol.json")


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
