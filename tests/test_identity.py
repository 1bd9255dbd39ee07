"""Identity and access: sessions, API tokens, registration, roles, user administration."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from core.testing import TEST_PASSWORD

NEW_PASSWORD = "another-password-456"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def audit_events(app: Any, action: str, object_id: Any = None) -> list[Any]:
    from core.audit.models import AuditEvent
    from core.db import session

    with app.app_context():
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        if object_id is not None:
            stmt = stmt.where(AuditEvent.object_id == str(object_id))
        events = list(session().scalars(stmt.order_by(AuditEvent.id)))
        session().expunge_all()
        return events


def load_user(app: Any, username: str) -> Any:
    from core.db import session
    from core.identity.services import find_user

    with app.app_context():
        user = find_user(username)
        if user is not None:
            _ = (user.roles, [e.code for e in user.establishments], user.session_version)
            session().expunge(user)
        return user


def sign_in(client: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password})


def checked_values(html: str) -> set[str]:
    """The values of the checked checkboxes of a page."""
    inputs = re.findall(r"<input[^>]*>", html)
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in inputs
        if re.search(r"\schecked[\s>=]", tag) and 'value="' in tag
    }


def described_by(html: str, field_id: str) -> set[str]:
    """The ids named by ``aria-describedby`` on the control whose id is ``field_id``."""
    for tag in re.findall(r"<(?:input|select|textarea|fieldset)[^>]*>", html):
        if re.search(rf'\sid="{re.escape(field_id)}"', tag):
            found = re.search(r'aria-describedby="([^"]*)"', tag)
            return set(found.group(1).split()) if found else set()
    return set()


def tied_error(html: str, field_id: str) -> bool:
    """A visible error message whose id the field's ``aria-describedby`` names."""
    return f'id="{field_id}-error"' in html and f"{field_id}-error" in described_by(html, field_id)


def copy_session_cookie(app: Any, source: Any) -> Any:
    """A second browser holding a copy of ``source``'s session cookie."""
    cookie = source.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    return other


# --------------------------------------------------------------------------------------------
# 1. portal sessions and API tokens
# --------------------------------------------------------------------------------------------


def test_sign_in_with_good_and_bad_password(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    bad = sign_in(client, clerk.username, "wrong-password")
    assert bad.status_code == 401
    assert tied_error(bad.get_data(as_text=True), "password")
    assert client.get("/dashboard").status_code == 302  # still anonymous

    good = sign_in(client, clerk.username.upper())  # usernames are case-insensitive
    assert good.status_code == 302
    assert good.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200
    assert audit_events(app, "user.login", clerk.id)
    assert audit_events(app, "user.login.failed", clerk.username)


def test_sign_in_redirects_only_to_local_next(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    resp = client.post(
        "/login?next=//evil.example/x", data={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 302
    assert "evil.example" not in resp.headers["Location"]


def test_inactive_user_cannot_sign_in(app, client, factories):
    from core.db import session
    from core.identity.services import get_user

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        get_user(clerk.id).is_active = False
        session().commit()
    assert sign_in(client, clerk.username).status_code == 401


def test_password_is_stored_as_argon2id(app, factories):
    from core.identity.passwords import verify_password

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        assert clerk.password_hash.startswith("$argon2id$")
        assert TEST_PASSWORD not in clerk.password_hash
        assert verify_password(clerk.password_hash, TEST_PASSWORD)
        assert not verify_password(clerk.password_hash, TEST_PASSWORD + "x")


def test_api_token_is_stored_hashed_and_expires(app, client, factories):
    from core.db import session
    from core.identity.models import ApiToken

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    resp = client.post(
        "/api/v1/auth/token", json={"username": clerk.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200
    token = resp.json["token"]
    expires = dt.datetime.fromisoformat(resp.json["expires_at"])
    assert expires.tzinfo is not None
    lifetime = app.config["API_TOKEN_LIFETIME_SECONDS"]
    now = dt.datetime.now(dt.UTC)
    assert now < expires <= now + dt.timedelta(seconds=lifetime + 5)
    with app.app_context():
        stored = session().scalars(select(ApiToken).where(ApiToken.user_id == clerk.id)).one()
        assert stored.token_hash != token
        assert len(stored.token_hash) == 64
    assert audit_events(app, "api_token.issue", clerk.id)


def test_wrong_credentials_on_api_are_401_in_the_error_format(app, client, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    for body in (
        {"username": clerk.username, "password": "nope-nope-nope"},
        {"username": "nobody-here", "password": TEST_PASSWORD},
    ):
        resp = client.post("/api/v1/auth/token", json=body)
        assert resp.status_code == 401
        assert resp.json["error"]["code"] == "invalid_credentials"
        assert resp.json["error"]["message"]
        assert resp.json["error"]["fields"] == {}


def test_expired_token_gives_401(app, client, factories, api_headers):
    from core.db import session
    from core.identity.models import ApiToken

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = api_headers(clerk)
    assert client.get("/api/v1/establishments", headers=headers).status_code == 200
    with app.app_context():
        record = session().scalars(select(ApiToken).where(ApiToken.user_id == clerk.id)).one()
        record.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session().commit()
    resp = client.get("/api/v1/establishments", headers=headers)
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"


def test_revoked_token_gives_401(app, client, factories, api_headers):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = api_headers(clerk)
    other = api_headers(clerk)
    resp = client.post("/api/v1/auth/revoke", headers=headers)
    assert resp.status_code == 200
    assert resp.json == {"revoked": True}
    assert client.get("/api/v1/establishments", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 401
    # only that token: the user's other token still works
    assert client.get("/api/v1/establishments", headers=other).status_code == 200
    assert audit_events(app, "api_token.revoke", clerk.id)


def test_garbage_and_missing_tokens_give_401(client):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        resp = client.get("/api/v1/establishments", headers=headers)
        assert resp.status_code == 401
        assert resp.json["error"]["code"] == "unauthorized"


def test_token_of_deactivated_user_gives_401(app, client, factories, api_headers):
    from core.db import session
    from core.identity.services import get_user

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    headers = api_headers(clerk)
    with app.app_context():
        get_user(clerk.id).is_active = False
        session().commit()
    assert client.get("/api/v1/establishments", headers=headers).status_code == 401


# --------------------------------------------------------------------------------------------
# 7. sessions revocable on the server
# --------------------------------------------------------------------------------------------


def test_logout_ends_every_session_even_a_copied_cookie(app, client, factories, api_headers):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert sign_in(client, clerk.username).status_code == 302
    second_browser = app.test_client()
    assert sign_in(second_browser, clerk.username).status_code == 302
    stolen = copy_session_cookie(app, client)
    assert stolen.get("/dashboard").status_code == 200
    headers = api_headers(clerk)

    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert stolen.get("/dashboard").status_code == 302
    assert second_browser.get("/dashboard").status_code == 302
    assert "/login" in stolen.get("/dashboard").headers["Location"]
    # signing out of the portal leaves the user's API tokens (a phone app) alone
    assert client.get("/api/v1/establishments", headers=headers).status_code == 200
    assert audit_events(app, "user.logout", clerk.id)


def test_password_change_ends_sessions_and_revokes_tokens(app, client, factories, api_headers):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert sign_in(client, clerk.username).status_code == 302
    stolen = copy_session_cookie(app, client)
    headers = api_headers(clerk)

    resp = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    assert stolen.get("/dashboard").status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert client.get("/api/v1/establishments", headers=headers).status_code == 401
    assert sign_in(client, clerk.username).status_code == 401
    assert sign_in(client, clerk.username, NEW_PASSWORD).status_code == 302
    assert audit_events(app, "user.password.change", clerk.id)


def test_password_change_with_bad_input_changes_nothing(app, client, factories, api_headers):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert sign_in(client, clerk.username).status_code == 302
    headers = api_headers(clerk)
    wrong = client.post(
        "/account/password", data={"current_password": "not-it-at-all", "new_password": "x" * 12}
    )
    assert wrong.status_code == 422
    assert tied_error(wrong.get_data(as_text=True), "current_password")
    short = client.post(
        "/account/password", data={"current_password": TEST_PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    body = short.get_data(as_text=True)
    assert tied_error(body, "new_password")
    assert "10" in body
    # still signed in, token still valid, old password still works
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/v1/establishments", headers=headers).status_code == 200
    assert not audit_events(app, "user.password.change", clerk.id)


def test_password_page_requires_sign_in(client):
    resp = client.get("/account/password")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


# --------------------------------------------------------------------------------------------
# 4. roles and permissions
# --------------------------------------------------------------------------------------------


def _role_form(app: Any, role: str, without: set[str] = frozenset(), add: set[str] = frozenset()):
    from core.identity.services import role_permissions

    with app.app_context():
        current = role_permissions()[role]
    return {"permissions": sorted((current - set(without)) | set(add))}


def test_removing_a_permission_from_a_role_takes_effect_and_survives_sync(app, client, factories):
    from core.db import session
    from core.identity.services import role_permissions, sync_permissions

    with app.app_context():
        admin = factories.user("central_admin", ())
        nurse = factories.user("nurse", ("EST-A",))
    nurse_client = app.test_client()
    assert sign_in(nurse_client, nurse.username).status_code == 302
    assert nurse_client.get("/detainees/").status_code == 200

    assert sign_in(client, admin.username).status_code == 302
    page = client.get("/admin/roles/nurse")
    assert page.status_code == 200
    assert "detainees.view" in checked_values(page.get_data(as_text=True))
    resp = client.post("/admin/roles/nurse", data=_role_form(app, "nurse", {"detainees.view"}))
    assert resp.status_code == 302

    assert nurse_client.get("/detainees/").status_code == 403
    with app.app_context():
        assert sync_permissions(session()) == 0
        session().commit()
        assert "detainees.view" not in role_permissions()["nurse"]
        assert "portal.dashboard" in role_permissions()["nurse"]
    assert nurse_client.get("/detainees/").status_code == 403
    events = audit_events(app, "role.permissions.update", "nurse")
    assert events[-1].summary == {"added": [], "removed": ["detainees.view"]}
    assert events[-1].actor_id == admin.id

    # and giving it back works too
    resp = client.post("/admin/roles/nurse", data=_role_form(app, "nurse", add={"detainees.view"}))
    assert resp.status_code == 302
    assert nurse_client.get("/detainees/").status_code == 200


def test_roles_page_shows_every_role_and_declared_permission(app, client, login_as):
    from core.identity.models import ROLES
    from core.identity.services import declared_permissions

    login_as("central_admin", ())
    resp = client.get("/admin/roles")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    for role in ROLES:
        assert f"/admin/roles/{role}" in body
    with app.app_context():
        for perm in declared_permissions():
            assert perm.code in body


def test_unknown_role_and_unknown_permission_are_refused(app, client, login_as):
    from core.identity.services import role_permissions

    login_as("central_admin", ())
    assert client.get("/admin/roles/wizard").status_code == 404
    with app.app_context():
        before = role_permissions()["nurse"]
    resp = client.post("/admin/roles/nurse", data={"permissions": ["no.such.permission"]})
    assert resp.status_code == 422
    assert 'id="permissions-error"' in resp.get_data(as_text=True)
    with app.app_context():
        assert role_permissions()["nurse"] == before


def test_sync_grants_new_permissions_once(app):
    from core.contributions import Permission
    from core.db import session
    from core.identity import services
    from core.identity.models import PermissionRecord, RolePermission

    extra = Permission("test.extra", "extra", ("nurse",))
    original = services.declared_permissions
    with app.app_context():
        try:
            services.declared_permissions = lambda: [*original(), extra]  # type: ignore[assignment]
            assert services.sync_permissions(session()) == 1
            assert "test.extra" in services.role_permissions()["nurse"]
            session().execute(
                RolePermission.__table__.delete().where(
                    RolePermission.permission_code == "test.extra"
                )
            )
            assert services.sync_permissions(session()) == 0
            assert "test.extra" not in services.role_permissions()["nurse"]
            assert session().get(PermissionRecord, "test.extra") is not None
        finally:
            services.declared_permissions = original  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# 5. establishment scoping of user creation
# --------------------------------------------------------------------------------------------


def _new_user_body(establishments: list[str], roles: list[str] | None = None) -> dict[str, Any]:
    import uuid

    return {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": "a-long-password-1",
        "full_name": "Nouvelle Recrue",
        "roles": roles or ["registry_clerk"],
        "establishments": establishments,
    }


def test_api_director_creates_users_only_for_own_establishment(app, client, factories, api_headers):
    with app.app_context():
        factories.establishment("EST-B")
        director = factories.user("director", ("EST-A",))
    headers = api_headers(director)

    body = _new_user_body(["EST-A"])
    resp = client.post("/api/v1/users", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    assert resp.json["username"] == body["username"]
    assert resp.json["roles"] == ["registry_clerk"]
    assert resp.json["establishments"] == ["EST-A"]
    assert "password" not in resp.json
    created = audit_events(app, "user.create", resp.json["id"])
    assert created and created[0].actor_id == director.id

    for bad in (
        _new_user_body(["EST-B"]),
        _new_user_body(["EST-A", "EST-B"]),
        _new_user_body(["EST-A"], ["director"]),
        _new_user_body(["EST-A"], ["central_admin"]),
        _new_user_body([], ["auditor"]),
    ):
        resp = client.post("/api/v1/users", json=bad, headers=headers)
        assert resp.status_code == 403, (bad, resp.json)
        assert resp.json["error"]["code"] == "forbidden"
        assert load_user(app, bad["username"]) is None


def test_api_central_admin_creates_users_anywhere(app, client, factories, api_headers):
    with app.app_context():
        factories.establishment("EST-B")
        admin = factories.user("central_admin", ())
    headers = api_headers(admin)
    for body in (_new_user_body(["EST-B"]), _new_user_body([], ["auditor"])):
        resp = client.post("/api/v1/users", json=body, headers=headers)
        assert resp.status_code == 201, resp.json
        assert load_user(app, body["username"]) is not None


@pytest.mark.parametrize(
    "role",
    [
        "registry_clerk",
        "visits_officer",
        "doctor",
        "nurse",
        "accountant",
        "transfers_officer",
        "complaints_officer",
        "auditor",
        "visitor",
    ],
)
def test_api_users_refused_to_other_roles(app, client, factories, api_headers, role):
    with app.app_context():
        user = factories.user(role, ("EST-A",))
    body = _new_user_body(["EST-A"])
    resp = client.post("/api/v1/users", json=body, headers=api_headers(user))
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "forbidden"
    assert load_user(app, body["username"]) is None


def test_api_users_anonymous_is_401(app, client):
    body = _new_user_body(["EST-A"])
    resp = client.post("/api/v1/users", json=body)
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    assert load_user(app, body["username"]) is None


def test_api_users_bad_input_is_422_with_fields(app, client, factories, api_headers):
    with app.app_context():
        admin = factories.user("central_admin", ())
    headers = api_headers(admin)
    cases = [
        ({"username": "x"}, {"password", "full_name", "roles"}),
        ({**_new_user_body(["EST-A"]), "password": "short"}, {"password"}),
        ({**_new_user_body(["EST-A"]), "username": "no spaces!"}, {"username"}),
        ({**_new_user_body(["EST-A"]), "roles": ["wizard"]}, {"roles"}),
        ({**_new_user_body(["NOPE"])}, {"establishments"}),
        ({**_new_user_body([])}, {"establishments"}),
        ({**_new_user_body(["EST-A"]), "extra": 1}, {"extra"}),
    ]
    for body, fields in cases:
        resp = client.post("/api/v1/users", json=body, headers=headers)
        assert resp.status_code == 422, (body, resp.json)
        error = resp.json["error"]
        assert error["code"] in ("validation_failed", "username_taken")
        assert fields <= set(error["fields"]), (body, error)
        assert all(isinstance(m, str) and m for m in error["fields"].values())
    resp = client.post("/api/v1/users", data="{not json", headers=headers)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "malformed_json"


def test_page_director_creates_users_only_for_own_establishment(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B")
    director = login_as("director", "EST-A")
    page = client.get("/admin/users/new")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'value="EST-A"' in body
    assert 'value="EST-B"' not in body  # only their establishments are offered
    assert 'value="central_admin"' not in body

    good = _new_user_body(["EST-A"])
    resp = client.post("/admin/users/new", data=good)
    assert resp.status_code == 302
    created = load_user(app, good["username"])
    assert created is not None and created.roles == {"registry_clerk"}
    assert audit_events(app, "user.create", created.id)[0].actor_id == director.id

    for bad, field_id in (
        (_new_user_body(["EST-B"]), "establishments"),
        (_new_user_body(["EST-A"], ["director"]), "roles"),
    ):
        resp = client.post("/admin/users/new", data=bad, headers={"Accept-Language": "fr"})
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert tied_error(html, field_id)
        assert str(escape("Choisissez l'une des valeurs autorisées.")) in html
        assert load_user(app, bad["username"]) is None


def test_page_central_admin_creates_users_anywhere(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B")
    login_as("central_admin", ())
    body = _new_user_body(["EST-B"], ["director"])
    resp = client.post("/admin/users/new", data=body)
    assert resp.status_code == 302
    created = load_user(app, body["username"])
    assert created.roles == {"director"}
    assert [e.code for e in created.establishments] == ["EST-B"]


def test_page_new_user_bad_input_is_422_tied_to_fields(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-A")
    login_as("central_admin", ())
    body = {**_new_user_body(["EST-A"]), "password": "short", "full_name": ""}
    resp = client.post("/admin/users/new", data=body)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert tied_error(html, "full_name")
    assert load_user(app, body["username"]) is None
    body = {**_new_user_body(["EST-A"]), "password": "short"}
    resp = client.post("/admin/users/new", data=body)
    assert resp.status_code == 422
    assert tied_error(resp.get_data(as_text=True), "password")
    assert load_user(app, body["username"]) is None


# --------------------------------------------------------------------------------------------
# 6. family registration
# --------------------------------------------------------------------------------------------


def _visitor_body(**kw: Any) -> dict[str, Any]:
    import uuid

    body = {
        "username": f"famille{uuid.uuid4().hex[:8]}",
        "password": "un-mot-de-passe-long",
        "full_name": "Fatima Zahra Alaoui",
        "national_id": "BE123456",
        "phone": "0612345678",
    }
    body.update(kw)
    return body


def test_api_visitor_registers(app, client):
    body = _visitor_body(national_id="be987654")
    resp = client.post("/api/v1/visitors/register", json=body)
    assert resp.status_code == 201, resp.json
    assert resp.json["roles"] == ["visitor"]
    assert resp.json["establishments"] == []
    user = load_user(app, body["username"])
    assert user.national_id == "BE987654"
    assert user.roles == {"visitor"}
    assert audit_events(app, "user.create", user.id)
    token = client.post(
        "/api/v1/auth/token", json={"username": body["username"], "password": body["password"]}
    )
    assert token.status_code == 200


def test_api_visitor_register_bad_input(app, client):
    cases = [
        (_visitor_body(national_id="123"), {"national_id"}),
        (_visitor_body(phone="call me"), {"phone"}),
        (_visitor_body(password="short"), {"password"}),
        (_visitor_body(username="a b"), {"username"}),
        (_visitor_body(full_name=""), {"full_name"}),
        ({"username": "onlyme"}, {"password", "full_name", "national_id", "phone"}),
        (_visitor_body(roles=["central_admin"]), {"roles"}),
        (_visitor_body(phone=612345678), {"phone"}),
    ]
    for body, fields in cases:
        resp = client.post("/api/v1/visitors/register", json=body)
        assert resp.status_code == 422, (body, resp.json)
        error = resp.json["error"]
        assert set(error) == {"code", "message", "fields"}
        assert error["code"] == "validation_failed"
        assert fields <= set(error["fields"]), (body, error)
        if isinstance(body.get("username"), str):
            assert load_user(app, body["username"]) is None
    for raw in ("[]", "nope", ""):
        resp = client.post("/api/v1/visitors/register", data=raw, content_type="application/json")
        assert resp.status_code == 400
        assert resp.json["error"]["code"] == "malformed_json"


def test_api_visitor_duplicate_username_is_422_field_error(app, client, factories):
    with app.app_context():
        existing = factories.visitor()
    resp = client.post(
        "/api/v1/visitors/register", json=_visitor_body(username=existing.username.upper())
    )
    assert resp.status_code == 422
    assert resp.json["error"]["code"] == "username_taken"
    assert set(resp.json["error"]["fields"]) == {"username"}


def test_page_visitor_registers_and_is_signed_in(app, client):
    assert client.get("/register").status_code == 200
    body = _visitor_body()
    resp = client.post("/register", data=body)
    assert resp.status_code == 302
    user = load_user(app, body["username"])
    assert user is not None and user.roles == {"visitor"}
    # signed in as a family member: the public home, not the staff dashboard
    assert client.get("/").status_code == 200
    assert client.get("/dashboard").status_code == 403
    assert client.get("/account/password").status_code == 200


def test_page_visitor_register_errors_are_tied_to_fields(app, client):
    body = _visitor_body(national_id="12", phone="x", password="short")
    resp = client.post("/register", data=body)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for name in ("national_id", "phone"):
        assert tied_error(html, name), name
    assert 'class="error-summary"' in html
    assert load_user(app, body["username"]) is None

    missing = client.post("/register", data={"username": "someone"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    for name in ("full_name", "national_id", "phone", "password"):
        assert tied_error(html, name), name


def test_page_visitor_duplicate_username(app, client, factories):
    with app.app_context():
        existing = factories.visitor()
    resp = client.post("/register", data=_visitor_body(username=existing.username))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert tied_error(html, "username")


# --------------------------------------------------------------------------------------------
# 9. user administration pages
# --------------------------------------------------------------------------------------------


def test_users_list_is_scoped(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B")
        mine = factories.user("nurse", ("EST-A",))
        theirs = factories.user("nurse", ("EST-B",))
        visitor = factories.visitor()
    login_as("director", "EST-A")
    html = client.get("/admin/users").get_data(as_text=True)
    assert mine.username in html
    assert theirs.username not in html
    assert visitor.username not in html
    assert client.get(f"/admin/users/{theirs.id}").status_code == 404
    assert client.get(f"/admin/users/{visitor.id}").status_code == 404
    assert client.get(f"/admin/users/{mine.id}").status_code == 200
    assert client.get("/admin/users/999999").status_code == 404


def test_central_admin_sees_every_user(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B")
        theirs = factories.user("nurse", ("EST-B",))
    login_as("central_admin", ())
    assert theirs.username in client.get("/admin/users").get_data(as_text=True)
    assert client.get(f"/admin/users/{theirs.id}").status_code == 200


def test_edit_roles_and_establishments_is_audited(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B")
        nurse = factories.user("nurse", ("EST-A",))
    admin = login_as("central_admin", ())
    resp = client.post(
        f"/admin/users/{nurse.id}",
        data={
            "full_name": "Infirmière Principale",
            "roles": ["nurse", "doctor"],
            "establishments": ["EST-A", "EST-B"],
            "is_active": "y",
        },
    )
    assert resp.status_code == 302
    user = load_user(app, nurse.username)
    assert user.roles == {"nurse", "doctor"}
    assert [e.code for e in user.establishments] == ["EST-A", "EST-B"]
    assert user.full_name == "Infirmière Principale"
    event = audit_events(app, "user.update", nurse.id)[-1]
    assert event.actor_id == admin.id
    assert event.summary["roles"] == [["nurse"], ["doctor", "nurse"]]
    assert event.summary["establishments"] == [["EST-A"], ["EST-A", "EST-B"]]


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, client, factories, api_headers):
    with app.app_context():
        nurse = factories.user("nurse", ("EST-A",))
        director = factories.user("director", ("EST-A",))
    nurse_client = app.test_client()
    assert sign_in(nurse_client, nurse.username).status_code == 302
    headers = api_headers(nurse)
    assert nurse_client.get("/dashboard").status_code == 200

    assert sign_in(client, director.username).status_code == 302
    resp = client.post(
        f"/admin/users/{nurse.id}",
        data={"full_name": nurse.full_name, "roles": ["nurse"], "establishments": ["EST-A"]},
    )
    assert resp.status_code == 302
    assert load_user(app, nurse.username).is_active is False
    assert nurse_client.get("/dashboard").status_code == 302
    assert client.get("/api/v1/establishments", headers=headers).status_code == 401
    assert sign_in(app.test_client(), nurse.username).status_code == 401
    event = audit_events(app, "user.update", nurse.id)[-1]
    assert event.summary["is_active"] == [True, False]
    assert event.actor_id == director.id


def test_director_cannot_edit_directors_or_promote(app, client, factories, login_as):
    with app.app_context():
        other_director = factories.user("director", ("EST-A",))
        nurse = factories.user("nurse", ("EST-A",))
    me = login_as("director", "EST-A")
    assert client.get(f"/admin/users/{other_director.id}").status_code == 404
    assert client.get(f"/admin/users/{me.id}").status_code == 404
    resp = client.post(
        f"/admin/users/{nurse.id}",
        data={"full_name": "x", "roles": ["central_admin"], "establishments": ["EST-A"]},
    )
    assert resp.status_code in (403, 422)
    assert load_user(app, nurse.username).roles == {"nurse"}
    assert load_user(app, nurse.username).is_active is True


def test_edit_user_bad_input_changes_nothing(app, client, factories, login_as):
    with app.app_context():
        nurse = factories.user("nurse", ("EST-A",))
    admin = login_as("central_admin", ())
    cases = [
        {"full_name": "", "roles": ["nurse"], "establishments": ["EST-A"], "is_active": "y"},
        {"full_name": "x", "roles": [], "establishments": ["EST-A"], "is_active": "y"},
        {"full_name": "x", "roles": ["nurse"], "establishments": [], "is_active": "y"},
        {"full_name": "x", "roles": ["wizard"], "establishments": ["EST-A"], "is_active": "y"},
    ]
    for data in cases:
        resp = client.post(f"/admin/users/{nurse.id}", data=data)
        assert resp.status_code == 422, data
        assert "-error" in resp.get_data(as_text=True)
    user = load_user(app, nurse.username)
    assert user.roles == {"nurse"} and user.full_name == nurse.full_name
    assert [e.code for e in user.establishments] == ["EST-A"]
    assert not audit_events(app, "user.update", nurse.id)
    # nobody deactivates their own account
    resp = client.post(
        f"/admin/users/{admin.id}", data={"full_name": "Admin", "roles": ["central_admin"]}
    )
    assert resp.status_code == 422
    assert load_user(app, admin.username).is_active is True


def test_users_page_separates_staff_and_families_and_searches(app, client, factories, login_as):
    with app.app_context():
        nurse = factories.user("nurse", ("EST-A",), full_name="Salma Bennani")
        visitor = factories.visitor(full_name="Khadija Tazi", national_id="BK998877")
    login_as("central_admin", ())
    staff = client.get("/admin/users").get_data(as_text=True)
    assert nurse.username in staff and visitor.username not in staff
    families = client.get("/admin/users?kind=family").get_data(as_text=True)
    assert visitor.username in families and nurse.username not in families
    assert "BK998877" in families
    found = client.get("/admin/users?kind=family&q=bk9988").get_data(as_text=True)
    assert visitor.username in found
    none = client.get("/admin/users?kind=family&q=Salma").get_data(as_text=True)
    assert visitor.username not in none and nurse.username not in none
    by_name = client.get("/admin/users?q=salma+bennani").get_data(as_text=True)
    assert nurse.username in by_name
    for bad in ("%00", "a%0D%0Ab", "x" * 5000):
        assert client.get(f"/admin/users?q={bad}&page=99999999999999999999").status_code == 200


def test_users_page_is_paged_in_sql(app, client, factories, login_as):
    with app.app_context():
        made = {factories.user("nurse", ("EST-A",)).username for _ in range(55)}
        visitor = factories.visitor()
    login_as("director", "EST-A")
    first = client.get("/admin/users").get_data(as_text=True)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    on_first = {u for u in made if f">{u}</a>" in first}
    on_second = {u for u in made if f">{u}</a>" in second}
    assert len(on_first) + len(on_second) == 55 and not on_first & on_second
    assert len(on_first) == 50
    # a director has no family accounts to manage: the tab lists none
    families = client.get("/admin/users?kind=family").get_data(as_text=True)
    assert visitor.username not in families and '<table class="data">' not in families
