"""The session cookie kept once verified (core.sessions): the same values as Flask's own
check, a copy for each request, never past the session's lifetime, never a cookie that
failed, a session with lists, or one signed with another key."""

from __future__ import annotations

from typing import Any

import pytest
from flask.sessions import SecureCookieSessionInterface

from core import sessions


def _cookie(app: Any, values: dict[str, Any]) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(values)


def _open(app: Any, cookie: str) -> Any:
    name = app.config["SESSION_COOKIE_NAME"]
    ctx = app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"})  # not pushed
    return app.session_interface.open_session(app, ctx.request)


@pytest.fixture
def verifications(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the signature was checked (Flask's serializer asked for)."""
    seen: list[int] = []
    original = SecureCookieSessionInterface.get_signing_serializer

    def counting(self: Any, app_: Any) -> Any:
        seen.append(1)
        return original(self, app_)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", counting)
    app.session_interface._verified.clear()
    return seen


def test_the_app_uses_it(app: Any) -> None:
    assert isinstance(app.session_interface, sessions.SessionInterface)


def test_verified_once_each_request_its_own_copy(app: Any, verifications: list[int]) -> None:
    cookie = _cookie(app, {"_user_id": "7:1", "lang": "fr"})
    verifications.clear()
    first = _open(app, cookie)
    assert dict(first) == {"_user_id": "7:1", "lang": "fr"}
    first["lang"] = "ar"  # this request's change is not the next request's
    second = _open(app, cookie)
    assert dict(second) == {"_user_id": "7:1", "lang": "fr"}
    assert len(verifications) == 1
    assert not second.modified


def test_never_past_the_lifetime(
    app: Any, verifications: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = _cookie(app, {"_user_id": "7:1"})
    assert dict(_open(app, cookie)) == {"_user_id": "7:1"}
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    import time

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime + 5)
    assert dict(_open(app, cookie)) == {}  # expired: a new, empty session
    assert cookie not in {key[0] for key in app.session_interface._verified}


def test_a_tampered_cookie_is_refused_and_not_kept(app: Any, verifications: list[int]) -> None:
    cookie = _cookie(app, {"_user_id": "7:1"})
    payload, stamp, signature = cookie.rsplit(".", 2)
    forged = f"{payload}.{stamp}.{'A' * len(signature)}"
    verifications.clear()
    for _ in range(2):
        assert dict(_open(app, forged)) == {}
    assert len(verifications) == 2
    assert app.session_interface._verified == {}


def test_a_session_holding_a_list_is_verified_each_time(app: Any, verifications: list[int]) -> None:
    cookie = _cookie(app, {"_flashes": [("info", "hello")]})
    verifications.clear()
    first = _open(app, cookie)
    first["_flashes"].append(("info", "again"))
    assert dict(_open(app, cookie))["_flashes"] == [("info", "hello")]
    assert len(verifications) == 2


def test_a_new_secret_key_does_not_read_the_old_cookie(app: Any, verifications: list[int]) -> None:
    cookie = _cookie(app, {"_user_id": "7:1"})
    assert dict(_open(app, cookie)) == {"_user_id": "7:1"}
    old = app.secret_key
    app.secret_key = "another key entirely, for this test"
    try:
        assert dict(_open(app, cookie)) == {}
        app.config["SECRET_KEY_FALLBACKS"] = [old]  # rotated: the old key still reads it
        assert dict(_open(app, cookie)) == {"_user_id": "7:1"}
    finally:
        app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_kept_cookies_are_bounded(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "KEPT", 3)
    app.session_interface._verified.clear()
    for n in range(10):
        assert dict(_open(app, _cookie(app, {"n": n}))) == {"n": n}
        assert len(app.session_interface._verified) <= 3
