"""The page's CSRF token, signed once a minute per session (core.csrf_tokens)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask_wtf.csrf import generate_csrf
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core import csrf_tokens
from core.testing import TEST_PASSWORD, Factories


@pytest.fixture
def csrf_app(_session_app: Any, make_app: Any) -> Any:
    return make_app(WTF_CSRF_ENABLED=True)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock(time.time())
    monkeypatch.setattr(csrf_tokens, "_now", found)
    return found


def freeze_signatures(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Signatures (CSRF tokens and the session cookie) dated and checked by ``clock``, from
    now on (set to now: a session cookie signed a moment ago is not from the future)."""
    clock.now = time.time()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(clock.now))


def page_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))


def signed_at(app: Any, token: str) -> int:
    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    _raw, timestamp = serializer.loads(token, return_timestamp=True)
    return int(timestamp.timestamp())


def signed_in_client(app: Any) -> Any:
    with app.app_context():
        admin = Factories(app).user("central_admin", ())
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    (token,) = page_tokens(page)
    creds = {"username": admin.username, "password": TEST_PASSWORD, "csrf_token": token}
    assert client.post("/login", data=creds).status_code == 302
    return client


def test_a_session_gets_the_same_signed_token_within_the_minute_and_it_is_accepted(
    csrf_app, clock, monkeypatch
):
    client = signed_in_client(csrf_app)
    freeze_signatures(monkeypatch, clock)
    first = page_tokens(client.get("/admin/users").get_data(as_text=True))
    clock.now += csrf_tokens.KEEP_SECONDS - 1
    second = page_tokens(client.get("/admin/users/new").get_data(as_text=True))
    assert len(first) == 1  # the page's forms (language, sign out) carry one token
    assert first <= second  # the form page's own field reads the same kept token
    assert len(second) == 1
    # the kept token is a real one: a sign-out form sent with it is accepted
    (token,) = second
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/users").status_code == 302


def test_after_the_minute_the_token_is_signed_again(csrf_app, clock, monkeypatch):
    client = signed_in_client(csrf_app)
    freeze_signatures(monkeypatch, clock)
    (first,) = page_tokens(client.get("/admin/users").get_data(as_text=True))
    clock.now += csrf_tokens.KEEP_SECONDS
    (second,) = page_tokens(client.get("/admin/users").get_data(as_text=True))
    assert first != second
    assert signed_at(csrf_app, second) == int(clock.now)  # signed now, not kept
    assert signed_at(csrf_app, first) <= int(clock.now) - csrf_tokens.KEEP_SECONDS


def test_two_sessions_never_share_a_token(csrf_app, clock):
    one, other = signed_in_client(csrf_app), signed_in_client(csrf_app)
    (first,) = page_tokens(one.get("/admin/users").get_data(as_text=True))
    (second,) = page_tokens(other.get("/admin/users").get_data(as_text=True))
    assert first != second
    # one session's token is refused in the other
    assert other.post("/logout", data={"csrf_token": first}).status_code == 400
    assert one.post("/logout", data={"csrf_token": second}).status_code == 400


def test_a_new_secret_key_signs_again(csrf_app, clock):
    client = signed_in_client(csrf_app)
    (first,) = page_tokens(client.get("/admin/users").get_data(as_text=True))
    kept = csrf_app.extensions[csrf_tokens.EXTENSION_KEY]
    assert [value for value, _at in kept.values()] == [first]
    (raw, secret, field) = next(iter(kept))
    assert (secret, field) == (csrf_app.secret_key, "csrf_token")
    with csrf_app.test_request_context():
        from flask import session

        session["csrf_token"] = raw
        csrf_app.config["WTF_CSRF_SECRET_KEY"] = "another-secret-key-for-the-forms"
        try:
            token = csrf_tokens.page_csrf_token()
        finally:
            del csrf_app.config["WTF_CSRF_SECRET_KEY"]
    assert token != first
    assert len(kept) == 2


def test_a_token_older_than_the_time_limit_is_refused_even_if_it_was_kept(
    csrf_app, clock, monkeypatch
):
    client = signed_in_client(csrf_app)
    freeze_signatures(monkeypatch, clock)
    (token,) = page_tokens(client.get("/admin/users").get_data(as_text=True))
    clock.now += csrf_app.config["WTF_CSRF_TIME_LIMIT"] + 1
    assert client.post("/logout", data={"csrf_token": token}).status_code == 400
    # and a page now gets a fresh one, accepted
    (fresh,) = page_tokens(client.get("/admin/users").get_data(as_text=True))
    assert fresh != token
    assert client.post("/logout", data={"csrf_token": fresh}).status_code == 302


def test_outside_a_request_or_without_a_session_token_flask_wtf_answers(csrf_app, clock):
    with csrf_app.test_request_context():
        token = csrf_tokens.page_csrf_token()  # no raw token yet: Flask-WTF creates it
        assert token == generate_csrf()
    assert csrf_app.extensions.get(csrf_tokens.EXTENSION_KEY, {}) == {}


def test_the_kept_tokens_are_bounded(csrf_app, clock, monkeypatch):
    monkeypatch.setattr(csrf_tokens, "KEPT", 3)
    for n in range(7):
        with csrf_app.test_request_context():
            from flask import session

            session["csrf_token"] = f"{n:040x}"
            csrf_tokens.page_csrf_token()
        assert len(csrf_app.extensions[csrf_tokens.EXTENSION_KEY]) <= 3


def test_templates_see_the_kept_token_not_flask_wtf_s(csrf_app):
    assert csrf_app.jinja_env.globals["csrf_token"] is csrf_tokens.page_csrf_token
    with csrf_app.test_request_context("/admin/users"):
        context: dict[str, Any] = {}
        csrf_app.update_template_context(context)
    assert "csrf_token" not in context  # no context processor hands Flask-WTF's back
