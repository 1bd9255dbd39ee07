"""Security plumbing: login throttling, CSRF, cookies, response headers, proxy settings."""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from core.testing import TEST_PASSWORD, Factories

# Shared by every run on this machine: each test gets its own key prefix (redis_prefix).
REDIS_URL = os.environ.get("IDMAJ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FR_TOO_MANY = "Trop de tentatives"


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def csrf_token_of(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def user_exists(app: Any, username: str) -> bool:
    from core.identity.services import find_user

    with app.app_context():
        return find_user(username) is not None


# --------------------------------------------------------------------------------------------
# 2. login throttling
# --------------------------------------------------------------------------------------------


def test_eleventh_wrong_attempt_on_the_page_gets_429_localised(app, client, factories):
    from flask_babel import gettext

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = {"Accept-Language": "fr"}
    for _ in range(10):
        resp = client.post(
            "/login", data={"username": clerk.username, "password": "wrong"}, headers=headers
        )
        assert resp.status_code == 401
    blocked = client.post(
        "/login", data={"username": clerk.username, "password": "wrong"}, headers=headers
    )
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert '<html lang="fr"' in html
    with app.test_request_context(headers=headers):
        expected = gettext("Too many attempts. Please wait a moment and try again.")
    assert expected.startswith(FR_TOO_MANY)
    assert expected in html
    # even the right password is refused while the account is throttled
    right = client.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    assert right.status_code == 429
    assert client.get("/dashboard").status_code == 302
    # another account from the same address is not blocked
    other = client.post("/login", data={"username": "someone-else", "password": "wrong"})
    assert other.status_code == 401


def test_eleventh_wrong_attempt_on_the_api_gets_429_json(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    body = {"username": clerk.username, "password": "wrong-wrong"}
    for _ in range(10):
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
    resp = client.post("/api/v1/auth/token", json=body, headers={"Accept-Language": "fr"})
    assert resp.status_code == 429
    error = resp.json["error"]
    assert error["code"] == "too_many_requests"
    assert error["message"].startswith(FR_TOO_MANY)
    assert error["fields"] == {}
    good = client.post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert good.status_code == 429


def test_page_and_api_attempts_count_together(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    for _ in range(5):
        assert (
            client.post("/login", data={"username": clerk.username, "password": "x"}).status_code
            == 401
        )
        assert (
            client.post(
                "/api/v1/auth/token", json={"username": clerk.username, "password": "x"}
            ).status_code
            == 401
        )
    resp = client.post("/login", data={"username": clerk.username, "password": "x"})
    assert resp.status_code == 429


def test_successful_sign_ins_are_not_throttled(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    for _ in range(12):
        resp = client.post(
            "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
        )
        assert resp.status_code == 200


def test_attempts_per_address_are_limited_too(_session_app, make_app):
    limited = make_app(LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    for _ in range(3):
        resp = client.post("/login", data={"username": unique_name(), "password": "x"})
        assert resp.status_code == 401
    resp = client.post("/login", data={"username": unique_name(), "password": "x"})
    assert resp.status_code == 429
    # the counters belong to that app: the main test app is not throttled
    other = _session_app.test_client()
    assert (
        other.post("/login", data={"username": unique_name(), "password": "x"}).status_code == 401
    )


def test_two_apps_on_one_database_share_the_sign_in_count(_session_app, make_app):
    """Issue 10 point 8: two worker processes without Redis each counted alone (20 of 30 wrong
    passwords were checked under two workers); the counters now live in the database."""
    first, second = make_app(), make_app()
    username = unique_name("mem")
    for instance in (first, second):
        for _ in range(5):
            resp = instance.test_client().post(
                "/login", data={"username": username, "password": "x"}
            )
            assert resp.status_code == 401
    assert (
        second.test_client()
        .post("/login", data={"username": username, "password": "x"})
        .status_code
        == 429
    )
    resp = first.test_client().post(
        "/api/v1/auth/token", json={"username": username, "password": "x"}
    )
    assert resp.status_code == 429


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test alone; its keys are deleted afterwards.

    The Redis database is shared with other tests and other runs (other checkouts, CI): with
    the default prefix the per-address counter (``login-addr:127.0.0.1``) added up across runs,
    and any run's ``limiter.reset()`` deleted every run's counters in the middle of this test.
    Redis must be running: without it the test fails, it never passes nor skips.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"this test needs Redis at {REDIS_URL} (.ci/run starts it): {exc}")
    prefix = f"idmaj-test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_redis_storage_shares_the_count_between_app_instances(_session_app, make_app, redis_prefix):
    """The other limits (registration, link requests) count in Redis when it is set."""
    first = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
    second = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=redis_prefix)
    storage = first.extensions["idmaj.ratelimit"]["storage"]
    assert "redis" in type(storage).__name__.lower()
    assert storage.key_prefix == redis_prefix
    for instance in (first, second):
        for _ in range(10):
            resp = instance.test_client().post("/register", data={"username": "x"})
            assert resp.status_code == 422
    resp = second.test_client().post("/register", data={"username": "x"})
    assert resp.status_code == 429
    keys = storage.get_connection().keys(f"{redis_prefix}:*")
    assert any(b"register" in key for key in keys), keys


def test_redis_key_prefix_belongs_to_each_app(
    _session_app, make_app, redis_prefix, tmp_path, monkeypatch
):
    one = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=f"{redis_prefix}:one")
    two = make_app(REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=f"{redis_prefix}:two")
    memory = make_app()
    assert one.extensions["idmaj.ratelimit"]["storage"].key_prefix == f"{redis_prefix}:one"
    assert two.extensions["idmaj.ratelimit"]["storage"].key_prefix == f"{redis_prefix}:two"
    assert type(memory.extensions["idmaj.ratelimit"]["storage"]).__name__ == "MemoryStorage"
    from core.config import load_config

    monkeypatch.delenv("IDMAJ_REDIS_KEY_PREFIX", raising=False)
    config = load_config(
        {"INSTANCE_PATH": tmp_path, "DATABASE_URL": "sqlite://", "SECRET_KEY": "k"}
    )
    assert config["REDIS_KEY_PREFIX"] == "idmaj"


def test_disabled_limits_in_one_app_leave_the_others_on(_session_app, make_app):
    make_app(RATELIMIT_ENABLED=False)
    enforced = make_app()
    username = unique_name("on")
    codes = [
        enforced.test_client().post("/login", data={"username": username, "password": "x"})
        for _ in range(11)
    ]
    assert [r.status_code for r in codes][-1] == 429


# --------------------------------------------------------------------------------------------
# 3. CSRF
# --------------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(_session_app: Any, make_app: Any) -> Any:
    """An app that checks CSRF tokens like production (writes are committed for real)."""
    return make_app(WTF_CSRF_ENABLED=True)


_national_ids = itertools.count(123456)


def _visitor_form(username: str) -> dict[str, str]:
    # a number of its own each time: one family account per national id (issue 10 point 4)
    return {
        "username": username,
        "password": "un-mot-de-passe-long",
        "full_name": "Khadija Bennani",
        "national_id": f"BK{next(_national_ids)}",
        "phone": "0612345678",
    }


def test_form_without_csrf_token_is_refused_and_writes_nothing(csrf_app):
    client = csrf_app.test_client()
    username = unique_name("csrf")
    resp = client.post("/register", data=_visitor_form(username), headers={"Accept-Language": "fr"})
    assert resp.status_code == 400
    assert "Le formulaire a expiré" in resp.get_data(as_text=True)
    assert not user_exists(csrf_app, username)

    page = client.get("/register")
    wrong = client.post("/register", data={**_visitor_form(username), "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert not user_exists(csrf_app, username)

    token = csrf_token_of(page.get_data(as_text=True))
    good = client.post("/register", data={**_visitor_form(username), "csrf_token": token})
    assert good.status_code == 302
    assert user_exists(csrf_app, username)


def test_staff_forms_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        admin = Factories(csrf_app).user("central_admin", ())
    client = csrf_app.test_client()
    creds = {"username": admin.username, "password": TEST_PASSWORD}
    assert client.post("/login", data=creds).status_code == 400
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={**creds, "csrf_token": token}).status_code == 302

    username = unique_name("staff")
    form = {
        "username": username,
        "password": "a-long-password-1",
        "full_name": "Agent",
        "roles": ["auditor"],
    }
    assert client.post("/admin/users/new", data=form).status_code == 400
    assert not user_exists(csrf_app, username)
    token = csrf_token_of(client.get("/admin/users/new").get_data(as_text=True))
    assert client.post("/admin/users/new", data={**form, "csrf_token": token}).status_code == 302
    assert user_exists(csrf_app, username)

    # signing out is a form too: without the token nothing happens
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/users").status_code == 200
    token = csrf_token_of(client.get("/admin/users").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/users").status_code == 302


def test_api_is_exempt_from_csrf_but_needs_a_token(csrf_app):
    client = csrf_app.test_client()
    resp = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert resp.status_code == 401  # reached the endpoint: no CSRF check on the API
    username = unique_name("apicsrf")
    resp = client.post("/api/v1/visitors/register", json=_visitor_form(username))
    assert resp.status_code == 201
    assert client.post("/api/v1/users", json={}).status_code == 401


# --------------------------------------------------------------------------------------------
# 8. cookies and headers
# --------------------------------------------------------------------------------------------


def _session_cookie_header(resp: Any, name: str = "idmaj_session") -> str:
    cookies = [v for v in resp.headers.getlist("Set-Cookie") if v.startswith(f"{name}=")]
    assert cookies, resp.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_lax(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    resp = client.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    cookie = _session_cookie_header(resp)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http


def test_production_cookies_are_secure(_session_app, make_app, monkeypatch):
    monkeypatch.setenv("IDMAJ_ENV", "production")
    prod = make_app()
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    resp = prod.test_client().post("/language", data={"lang": "fr"}, base_url="https://localhost")
    cookie = _session_cookie_header(resp)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _assert_security_headers(resp: Any) -> None:
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in csp.split(";") if part.strip()
    )
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == "'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert resp.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/login"),
        ("get", "/register"),
        ("get", "/dashboard"),
        ("get", "/no-such-page"),
        ("post", "/login"),
        ("get", "/static/style.css"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/establishments"),
        ("get", "/api/v1/no-such-endpoint"),
        ("post", "/api/v1/auth/token"),
    ],
)
def test_security_headers_on_every_response(client, method, path):
    resp = getattr(client, method)(path)
    _assert_security_headers(resp)
    assert "Strict-Transport-Security" not in resp.headers


def test_security_headers_when_signed_in(client, login_as):
    login_as("central_admin", ())
    for path in ("/dashboard", "/admin/users", "/admin/roles", "/audit/", "/detainees/"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        _assert_security_headers(resp)
        assert resp.headers["Cache-Control"] == "no-store", path


def test_no_inline_script_or_event_handlers_in_pages(client, login_as):
    pages = ["/", "/login", "/register"]
    for path in pages:
        _assert_no_inline_script(client.get(path).get_data(as_text=True), path)
    login_as("central_admin", ())
    for path in ("/dashboard", "/admin/users", "/admin/users/new", "/admin/roles", "/audit/"):
        _assert_no_inline_script(client.get(path).get_data(as_text=True), path)


def _assert_no_inline_script(html: str, path: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert "src=" in tag, (path, tag)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), path
    assert "javascript:" not in html.lower(), path


def test_hsts_only_over_tls(client):
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    # an X-Forwarded-Proto header is not trusted unless IDMAJ_PROXY_FIX is on
    spoofed = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_proxy_fix_trusts_forwarded_headers_when_enabled(_session_app, make_app):
    proxied = make_app(PROXY_FIX=True, LOGIN_ADDRESS_RATE_LIMIT="2 per minute")
    client = proxied.test_client()
    resp = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in resp.headers
    # the client address comes from X-Forwarded-For: each address has its own counter
    for _ in range(2):
        resp = client.post(
            "/login",
            data={"username": unique_name(), "password": "x"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert resp.status_code == 401
    resp = client.post(
        "/login",
        data={"username": unique_name(), "password": "x"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert resp.status_code == 429
    resp = client.post(
        "/login",
        data={"username": unique_name(), "password": "x"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert resp.status_code == 401


def test_proxy_fix_setting_comes_from_the_environment(monkeypatch, tmp_path):
    from core.config import load_config

    monkeypatch.setenv("IDMAJ_SECRET_KEY", "k")
    monkeypatch.delenv("IDMAJ_PROXY_FIX", raising=False)
    assert load_config({"INSTANCE_PATH": str(tmp_path)})["PROXY_FIX"] is False
    monkeypatch.setenv("IDMAJ_PROXY_FIX", "1")
    assert load_config({"INSTANCE_PATH": str(tmp_path)})["PROXY_FIX"] is True


def test_cache_control(client):
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/static/style.css").headers.get("Cache-Control") != "no-store"


def test_a_security_header_the_view_set_is_kept_and_not_doubled(app):
    from flask import Response

    from core.security import _security_headers

    with app.test_request_context("/"):
        resp = _security_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
    assert resp.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert len(resp.headers.getlist("Content-Security-Policy")) == 1


def test_a_page_without_limits_works_none_out_before_it_runs(app, client, monkeypatch):
    """No default, application or blueprint limit: Flask-Limiter's before-request pass is
    skipped; a decorated view still checks its own limit when it runs."""
    from flask_limiter import Limiter

    calls: list[bool] = []
    original = Limiter._check_request_limit

    def counted(self, callable_name=None, in_middleware=True):
        calls.append(in_middleware)
        return original(self, callable_name=callable_name, in_middleware=in_middleware)

    monkeypatch.setattr(Limiter, "_check_request_limit", counted)
    assert client.get("/").status_code < 400
    assert calls == []
    client.post("/register", data={"username": unique_name()})
    assert calls == [False]  # the registration view's own limit, checked by its decorator


def test_a_default_limit_set_by_the_operator_still_applies_to_every_page(make_app):
    from core.security import limiter

    manager = limiter.limit_manager
    saved = manager._default_limits  # the limiter is the process's: put it back after
    try:
        limited = make_app(RATELIMIT_DEFAULT="2 per minute")
        client = limited.test_client()
        codes = [client.get("/").status_code for _ in range(3)]
        assert codes[0] < 400 and codes[1] < 400 and codes[2] == 429
    finally:
        manager.set_default_limits(saved)


def test_a_decorated_limit_still_applies_when_nothing_limits_every_request(make_app):
    client = make_app().test_client()
    codes = [client.post("/register", data={"username": unique_name()}).status_code]
    codes += [client.post("/register", data={}).status_code for _ in range(20)]
    assert 429 not in codes[:20] and codes[20] == 429
    assert client.get("/register").status_code == 200  # the limit counts POSTs only
