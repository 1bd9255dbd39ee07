"""Issue 10 point 9: a second factor (TOTP) for staff, required for chosen roles by central
administration; accounts without one sign in as before."""

from __future__ import annotations

import pyotp
import pytest

from core.testing import TEST_PASSWORD

T0 = 1_800_000_000.0  # a fixed instant (a multiple of 30 s): the codes' clock in these tests


@pytest.fixture
def clock(monkeypatch):
    from core.identity import totp

    now = [T0]
    monkeypatch.setattr(totp, "_clock", lambda: now[0])
    return now


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(app, user, at: float = T0) -> str:
    """Enrol ``user`` through the service (start + first code at ``at``); returns the secret."""
    from core.db import session
    from core.identity import totp
    from core.identity.models import User

    with app.app_context():
        fresh = session().get(User, user.id)
        secret = totp.start_enrolment(fresh)
        totp.confirm_enrolment(fresh, _code(secret, at))
        session().commit()
    return secret


def test_staff_set_up_a_second_factor_and_sign_in_with_a_code(app, client, login_as, clock):
    from core.db import session
    from core.identity import totp
    from core.identity.models import User

    clerk = login_as("registry_clerk")
    assert client.get("/account/two-factor").status_code == 200
    assert client.post("/account/two-factor/start").status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    with app.app_context():
        secret = totp.pending_secret(session().get(User, clerk.id))
    assert secret and secret in page and "otpauth://totp/" in page and "<svg" in page
    wrong = client.post("/account/two-factor/confirm", data={"otp": "000000"})
    assert wrong.status_code == 422
    resp = client.post("/account/two-factor/confirm", data={"otp": _code(secret, T0)})
    assert resp.status_code == 302
    with app.app_context():
        record = totp._record(session().get(User, clerk.id))
        assert record.confirmed_at is not None
        assert secret not in record.secret  # sealed, not stored as is

    browser = app.test_client()
    first = browser.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/code")
    assert browser.get("/dashboard").status_code == 302  # not signed in yet
    assert browser.post("/login/code", data={"otp": "123456"}).status_code == 401
    # the code already used to turn the factor on is refused (same time step)
    assert browser.post("/login/code", data={"otp": _code(secret, T0)}).status_code == 401
    clock[0] = T0 + 30
    done = browser.post("/login/code", data={"otp": _code(secret, T0 + 30)})
    assert done.status_code == 302
    assert browser.get("/dashboard").status_code == 200


def test_api_token_asks_for_otp_only_from_accounts_with_a_second_factor(
    app, client, factories, clock
):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        plain = factories.user("registry_clerk", ("EST-A",))
    secret = _enrol(app, clerk)
    clock[0] = T0 + 60
    body = {"username": clerk.username, "password": TEST_PASSWORD}
    resp = client.post("/api/v1/auth/token", json=body)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "otp_required"
    resp = client.post("/api/v1/auth/token", json={**body, "otp": "000000"})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "invalid_otp"
    good = {**body, "otp": _code(secret, T0 + 60)}
    assert client.post("/api/v1/auth/token", json=good).status_code == 200
    replay = client.post("/api/v1/auth/token", json=good)
    assert replay.status_code == 401 and replay.json["error"]["code"] == "invalid_otp"
    # a wrong password with a right code is still the one sign-in failure
    resp = client.post(
        "/api/v1/auth/token",
        json={"username": clerk.username, "password": "wrong-wrong", "otp": "000000"},
    )
    assert resp.status_code == 401 and resp.json["error"]["code"] == "invalid_credentials"
    # an account without a second factor signs in exactly as before
    resp = client.post(
        "/api/v1/auth/token", json={"username": plain.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200 and set(resp.json) == {"token", "expires_at"}


def test_wrong_codes_are_throttled_like_passwords(app, client, factories, clock):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    secret = _enrol(app, clerk)
    clock[0] = T0 + 90
    body = {"username": clerk.username, "password": TEST_PASSWORD}
    for _ in range(10):
        resp = client.post("/api/v1/auth/token", json={**body, "otp": "000000"})
        assert resp.status_code == 401
    resp = client.post("/api/v1/auth/token", json={**body, "otp": _code(secret, T0 + 90)})
    assert resp.status_code == 429


def test_central_admin_requires_a_second_factor_for_chosen_roles(
    app, client, factories, login_as, clock
):
    from core.db import session
    from core.identity import totp

    admin = login_as("central_admin")
    assert admin
    page = client.get("/admin/two-factor")
    assert page.status_code == 200
    resp = client.post("/admin/two-factor", data={"roles": ["registry_clerk"]})
    assert resp.status_code == 302
    with app.app_context():
        assert totp.required_roles() == {"registry_clerk"}
        clerk = factories.user("registry_clerk", ("EST-A",))
        doctor = factories.user("doctor", ("EST-A",))
        session().commit()
    # the clerk is sent to set it up; every other page waits
    staff = app.test_client()
    resp = staff.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302
    resp = staff.get("/dashboard")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/two-factor")
    assert staff.get("/account/two-factor").status_code == 200
    api = app.test_client().post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert api.status_code == 401 and api.json["error"]["code"] == "otp_enrolment_required"
    # once set up, the clerk works (with a code at the next sign-in)
    assert staff.post("/account/two-factor/start").status_code == 302
    with app.app_context():
        from core.identity.models import User

        secret = totp.pending_secret(session().get(User, clerk.id))
    assert staff.post("/account/two-factor/confirm", data={"otp": _code(secret, T0)}).status_code
    assert staff.get("/dashboard").status_code == 200
    # roles not chosen are untouched
    other = app.test_client()
    resp = other.post("/login", data={"username": doctor.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302 and other.get("/dashboard").status_code == 200


@pytest.mark.parametrize("role", ["director", "registry_clerk", "auditor"])
def test_only_central_admin_chooses_the_roles(app, client, login_as, role):
    login_as(role)
    assert client.get("/admin/two-factor").status_code == 403
    assert client.post("/admin/two-factor", data={"roles": ["director"]}).status_code == 403


def test_second_factor_pages_need_a_signed_in_staff_member(app, client, login_as):
    for url in ("/account/two-factor", "/admin/two-factor"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/account/two-factor/start").status_code in (302, 400)
    login_as("visitor", None)
    assert client.get("/account/two-factor").status_code == 404
    assert client.post("/account/two-factor/start").status_code == 404


def test_turning_it_off_asks_for_the_password(app, client, factories, clock):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    secret = _enrol(app, clerk)
    clock[0] = T0 + 30
    client.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    assert client.post("/login/code", data={"otp": _code(secret, T0 + 30)}).status_code == 302
    resp = client.post("/account/two-factor/disable", data={"password": "not-my-password"})
    assert resp.status_code == 422
    resp = client.post("/account/two-factor/disable", data={"password": TEST_PASSWORD})
    assert resp.status_code == 302
    resp = client.post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200


def test_a_secret_sealed_under_another_key_does_not_open(app):
    from core.identity import totp

    with app.app_context():
        sealed = totp.seal("JBSWY3DPEHPK3PXP")
        assert totp.unseal(sealed) == "JBSWY3DPEHPK3PXP"
        app.config["SECRET_KEY"], old = "another-key", app.config["SECRET_KEY"]
        try:
            assert totp.unseal(sealed) is None
        finally:
            app.config["SECRET_KEY"] = old


def test_no_role_requires_a_second_factor_in_the_demo(demo_app):
    from core.identity import totp

    with demo_app.app_context():
        assert totp.required_roles() == set()


@pytest.mark.concurrency
def test_one_code_sent_twice_at_once_is_accepted_once(fresh_app, monkeypatch):
    """Two connections check the same code at the same moment: one passes, one is a replay."""
    import threading

    from core.db import session
    from core.errors import Unauthorized
    from core.identity import totp
    from core.identity.models import User
    from core.testing import Factories

    monkeypatch.setattr(totp, "_clock", lambda: T0 + 30)
    with fresh_app.app_context():
        user = Factories(fresh_app).user("registry_clerk", ("EST-A",))
        session().commit()
        user_id = user.id
    secret = _enrol(fresh_app, user, at=T0)
    code = _code(secret, T0 + 30)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        with fresh_app.app_context():
            me = session().get(User, user_id)
            assert me is not None
            totp._record(me)  # loaded before racing
            barrier.wait()
            try:
                totp.check_code(me, code)
                session().commit()
                outcomes.append("accepted")
            except Unauthorized:
                session().rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused"]
