"""Issue 10 point 8: the sign-in throttle — shared by every worker (in the database), blind to
Content-Type tricks, applied to the current password of /account/password, and limiting how
far a stranger can lock a named account out."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest

from core.testing import TEST_PASSWORD


def _env(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def test_text_plain_body_cannot_bypass_the_account_counter(app, client, factories):
    """The account's name was read with get_json(silent=True): a text/plain body (which the API
    parses all the same) was counted under no account at all."""
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    wrong = json.dumps({"username": clerk.username, "password": "wrong-wrong"})
    for _ in range(10):
        resp = client.post("/api/v1/auth/token", data=wrong, content_type="text/plain")
        assert resp.status_code == 401
    resp = client.post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": "wrong-wrong"}
    )
    assert resp.status_code == 429
    assert resp.json["error"]["code"] == "too_many_requests"
    assert int(resp.headers["Retry-After"]) >= 1
    # nor does the right password in a text/plain body get through meanwhile
    right = json.dumps({"username": clerk.username, "password": TEST_PASSWORD})
    resp = client.post("/api/v1/auth/token", data=right, content_type="text/plain")
    assert resp.status_code == 429


def test_wrong_current_passwords_are_throttled_like_sign_in(app, client, login_as):
    clerk = login_as("registry_clerk")
    for _ in range(10):
        resp = client.post(
            "/account/password",
            data={"current_password": "not-it-at-all", "new_password": "Another long pass 42"},
        )
        assert resp.status_code == 422
    resp = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "Another long pass 42"},
    )
    assert resp.status_code == 429
    # the same counter as sign-in: this address may not guess this account's password there
    other = client.application.test_client()
    resp = other.post("/login", data={"username": clerk.username, "password": "guess"})
    assert resp.status_code == 429


def test_a_stranger_cannot_lock_the_owner_out(app, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    stranger, owner = app.test_client(), app.test_client()
    for _ in range(10):
        resp = stranger.post(
            "/login",
            data={"username": clerk.username, "password": "x"},
            environ_base=_env("203.0.113.7"),
        )
        assert resp.status_code == 401
    resp = stranger.post(
        "/login",
        data={"username": clerk.username, "password": TEST_PASSWORD},
        environ_base=_env("203.0.113.7"),
    )
    assert resp.status_code == 429
    resp = owner.post(
        "/login",
        data={"username": clerk.username, "password": TEST_PASSWORD},
        environ_base=_env("198.51.100.20"),
    )
    assert resp.status_code == 302


def test_failures_from_many_addresses_bring_a_doubling_delay_not_a_lock(
    app, factories, monkeypatch
):
    from core.identity import throttle

    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_DELAY_AFTER", 3)
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_DELAY", 8)
    clock = [dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(throttle, "_now", lambda: clock[0])
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    client = app.test_client()
    addresses = iter(f"192.0.2.{n}" for n in range(1, 200))

    def attempt(password: str = "x") -> object:
        return client.post(
            "/api/v1/auth/token",
            json={"username": clerk.username, "password": password},
            environ_base=_env(next(addresses)),
        )

    for _ in range(2):
        assert attempt().status_code == 401
    waits = []
    for _ in range(6):
        assert attempt().status_code == 401  # the failure that sets the next delay
        blocked = attempt()
        assert blocked.status_code == 429
        assert blocked.json["error"]["code"] == "too_many_requests"
        waits.append(int(blocked.headers["Retry-After"]))
        clock[0] += dt.timedelta(seconds=waits[-1])
    assert waits == [1, 2, 4, 8, 8, 8]  # doubling, never past LOGIN_ACCOUNT_MAX_DELAY
    # once the delay is over the owner signs in, and that clears the account's count
    assert attempt(TEST_PASSWORD).status_code == 200
    assert attempt().status_code == 401
    assert attempt().status_code == 401


@pytest.mark.concurrency
def test_racing_workers_cannot_both_take_the_last_guess(fresh_app):
    """Two connections reserve the last allowed guess at once: exactly one gets it."""
    from core.db import session
    from core.errors import TooManyRequests
    from core.identity import throttle

    fresh_app.config["LOGIN_RATE_LIMIT"] = "1 per hour"
    name = f"race{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        with fresh_app.test_request_context(environ_base=_env("192.0.2.99")):
            barrier.wait()
            try:
                throttle.begin(name)
                session().commit()
                outcomes.append("reserved")
            except TooManyRequests:
                session().rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "reserved"]


def test_two_gunicorn_workers_count_together(tmp_path):
    """The issue's own reproduction: ``idmaj serve --workers 2`` without Redis let 20 of 30
    wrong passwords through before the first 429 (each worker counted alone)."""
    import os
    import subprocess
    import urllib.error
    import urllib.request

    from tests.test_cli_serve import IDMAJ, _free_port, _wait_for

    env = {
        **os.environ,
        "IDMAJ_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "IDMAJ_SECRET_KEY": "serve-test",
    }
    env.pop("IDMAJ_REDIS_URL", None)
    subprocess.run([IDMAJ, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen(
        [IDMAJ, "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login", proc)
        body = json.dumps({"username": "someone", "password": "wrong-wrong"}).encode()
        codes = []
        for _ in range(30):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/auth/token",
                data=body,
                headers={"Content-Type": "application/json", "Connection": "close"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    codes.append(resp.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
        assert codes[:10] == [401] * 10
        assert set(codes[10:]) == {429}, codes
    finally:
        proc.terminate()
        proc.wait(timeout=20)
