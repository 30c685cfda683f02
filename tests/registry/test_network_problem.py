"""Failed registry requests are named in a user's words, not the library's nested repr."""

from __future__ import annotations

import socket

import pytest
import requests

from trimdock.registry.client import network_problem


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_a_real_refused_connection() -> None:
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        requests.get(f"http://127.0.0.1:{_closed_port()}/v2/", timeout=5)
    assert network_problem(caught.value) == "connection refused"


NO_NAME = "Name or service not known"
RESET = "Connection reset by peer"


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "phrase"),
    [
        (_chained(requests.ConnectionError("pool"), socket.gaierror(-2, NO_NAME)),
         "the host name does not resolve"),
        (requests.exceptions.ConnectTimeout("connect timeout"), "no answer within 10 s"),
        (_chained(requests.ConnectionError("x"), ConnectionResetError(104, RESET)),
         "the connection was dropped"),
        (_chained(requests.ConnectionError("x"), OSError(113, "No route to host")),
         "no route to the host"),
        (requests.ConnectionError("something else entirely"), "something else entirely"),
    ],
)  # fmt: skip
def test_phrases(exc: BaseException, phrase: str) -> None:
    assert network_problem(exc) == phrase
