"""The pure parts of registry auth: challenges and token answers (bearer.py)."""

from __future__ import annotations

import pytest

from trimdock.registry.bearer import Challenge, Token, parse_challenge, parse_token_answer


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:a/b:pull"',
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.example/token",
                    "service": "registry.example",
                    "scope": "repository:a/b:pull",
                },
            ),
        ),
        (
            'Bearer realm="http://127.0.0.1:1/token",service="s",scope="repository:a:pull",'
            'error="insufficient_scope"',
            Challenge(
                "bearer",
                {
                    "realm": "http://127.0.0.1:1/token",
                    "service": "s",
                    "scope": "repository:a:pull",
                    "error": "insufficient_scope",
                },
            ),
        ),
        ('Basic realm="trimdock-test"', Challenge("basic", {"realm": "trimdock-test"})),
        ("", Challenge("", {})),
        ("Negotiate", Challenge("negotiate", {})),
    ],
)
def test_challenges(header: str, expected: Challenge) -> None:
    assert parse_challenge(header) == expected


def test_challenge_error() -> None:
    assert parse_challenge('Bearer realm="r",error="invalid_token"').error == "invalid_token"
    assert parse_challenge('Bearer realm="r"').error == ""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"token": "t", "expires_in": 300}, Token("t", 1000 + 300 - 5)),
        ({"access_token": "t", "expires_in": 300}, Token("t", 1000 + 300 - 5)),
        ({"token": "t", "access_token": "u", "expires_in": 300}, Token("t", 1000 + 300 - 5)),
        ({"token": "", "access_token": "u", "expires_in": 300}, Token("u", 1000 + 300 - 5)),
        # Short lifetimes keep a tenth as margin, so a 2 s token is still used for 1.8 s.
        ({"token": "t", "expires_in": 2}, Token("t", 1000 + 2 - 0.2)),
        ({"token": "t", "expires_in": 2.5}, Token("t", 1000 + 2.5 - 0.25)),
        # Missing or nonsensical lifetimes: the spec's default of 60 s.
        ({"token": "t"}, Token("t", 1000 + 60 - 5)),
        ({"token": "t", "expires_in": 0}, Token("t", 1000 + 60 - 5)),
        ({"token": "t", "expires_in": -3}, Token("t", 1000 + 60 - 5)),
        ({"token": "t", "expires_in": "300"}, Token("t", 1000 + 60 - 5)),
        ({"token": "t", "expires_in": True}, Token("t", 1000 + 60 - 5)),
        # No token at all.
        ({}, None),
        ({"token": None}, None),
        ({"token": 7}, None),
        ({"details": "incorrect username or password"}, None),
        (["t"], None),
        ("t", None),
    ],
)
def test_token_answers(answer: object, expected: Token | None) -> None:
    token = parse_token_answer(answer, 1000.0)
    if expected is None:
        assert token is None
    else:
        assert token is not None and token.value == expected.value
        assert token.refresh_at == pytest.approx(expected.refresh_at)


def test_a_token_is_due_at_its_refresh_time() -> None:
    token = Token("t", 100.0)
    assert [token.due(now) for now in (0.0, 99.9, 100.0, 500.0)] == [False, False, True, True]
