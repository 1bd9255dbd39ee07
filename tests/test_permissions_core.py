"""Who may open every core page and call every core endpoint: tables of expected status codes.

Each role signs in as a user of EST-A (``central_admin`` and ``auditor`` have no establishment:
they see all). Routes with an establishment's object in the URL are tried twice: on an object
of EST-A ("own") and on one of EST-B ("other"). ``anonymous`` is a client that never signed in.
``test_every_core_route_is_in_the_table`` fails when a core route is added without a row here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from core.testing import TEST_PASSWORD

STAFF = (
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
)
ROLES = (*STAFF, "visitor")
WHO = (*ROLES, "anonymous")
ALL_SEEING = ("central_admin", "auditor")
CORE_BLUEPRINTS = {
    "portal",
    "auth",
    "users",
    "establishments",
    "detainees",
    "audit",
    "notifications",
    "core_api",
}

Expect = int | tuple[int, int]  # one status, or (own establishment, other establishment)


def row(
    *,
    anonymous: Expect,
    visitor: Expect,
    staff: Expect,
    **roles: Expect,
) -> dict[str, Expect]:
    """One table row: a status for every role (``staff`` is the default of the staff roles)."""
    unknown = set(roles) - set(STAFF)
    assert not unknown, unknown
    table: dict[str, Expect] = {r: roles.get(r, staff) for r in STAFF}
    table["visitor"] = visitor
    table["anonymous"] = anonymous
    return table


def everyone(status: Expect) -> dict[str, Expect]:
    return row(anonymous=status, visitor=status, staff=status)


SCOPED = (200, 404)  # sees their own establishment's object; another's does not exist for them

# ---------------------------------------------------------------------------------------------
# pages: anonymous users are sent to the sign-in page (302); no permission is 403
# ---------------------------------------------------------------------------------------------
PAGES: dict[tuple[str, str], dict[str, Expect]] = {
    ("GET", "/"): row(anonymous=200, visitor=200, staff=302),
    ("GET", "/dashboard"): row(anonymous=302, visitor=403, staff=200),
    ("POST", "/language"): everyone(302),
    ("GET", "/login"): everyone(200),
    ("POST", "/login"): everyone(422),  # an empty form: refused field by field
    ("GET", "/register"): everyone(200),
    ("POST", "/register"): everyone(422),  # an empty form
    ("GET", "/account/password"): row(anonymous=302, visitor=200, staff=200),
    ("POST", "/account/password"): row(anonymous=302, visitor=422, staff=422),  # wrong password
    ("POST", "/logout"): row(anonymous=302, visitor=302, staff=302),
    # detainees
    ("GET", "/detainees/"): row(anonymous=302, visitor=403, staff=200),
    ("GET", "/detainees/new"): row(anonymous=302, visitor=403, staff=403, registry_clerk=200),
    ("POST", "/detainees/new"): row(
        anonymous=302, visitor=403, staff=403, registry_clerk=(302, 422)
    ),
    ("GET", "/detainees/<registration_number>"): row(
        anonymous=302, visitor=403, staff=SCOPED, central_admin=200, auditor=200
    ),
    ("GET", "/detainees/<registration_number>/edit"): row(
        anonymous=302, visitor=403, staff=403, registry_clerk=SCOPED
    ),
    ("POST", "/detainees/<registration_number>/edit"): row(
        anonymous=302, visitor=403, staff=403, registry_clerk=(302, 404)
    ),
    ("GET", "/detainees/<registration_number>/release"): row(
        anonymous=302, visitor=403, staff=403, registry_clerk=SCOPED
    ),
    ("POST", "/detainees/<registration_number>/release"): row(
        anonymous=302, visitor=403, staff=403, registry_clerk=(302, 404)
    ),
    # establishments
    ("GET", "/establishments/"): row(anonymous=302, visitor=403, staff=200),
    ("GET", "/establishments/new"): row(anonymous=302, visitor=403, staff=403, central_admin=200),
    ("POST", "/establishments/new"): row(anonymous=302, visitor=403, staff=403, central_admin=302),
    ("GET", "/establishments/<code>"): row(
        anonymous=302, visitor=403, staff=403, central_admin=200
    ),
    ("POST", "/establishments/<code>"): row(
        anonymous=302, visitor=403, staff=403, central_admin=302
    ),
    # users and roles
    ("GET", "/admin/users"): row(
        anonymous=302, visitor=403, staff=403, central_admin=200, director=200
    ),
    ("GET", "/admin/users/new"): row(
        anonymous=302, visitor=403, staff=403, central_admin=200, director=200
    ),
    ("POST", "/admin/users/new"): row(
        # a director is offered only their own establishments: another's is not a valid choice
        anonymous=302,
        visitor=403,
        staff=403,
        central_admin=302,
        director=(302, 422),
    ),
    ("GET", "/admin/users/<int:user_id>"): row(
        anonymous=302, visitor=403, staff=403, central_admin=200, director=SCOPED
    ),
    ("POST", "/admin/users/<int:user_id>"): row(
        anonymous=302, visitor=403, staff=403, central_admin=302, director=(302, 404)
    ),
    ("GET", "/admin/roles"): row(anonymous=302, visitor=403, staff=403, central_admin=200),
    ("GET", "/admin/roles/<role>"): row(anonymous=302, visitor=403, staff=403, central_admin=200),
    ("POST", "/admin/roles/<role>"): row(anonymous=302, visitor=403, staff=403, central_admin=302),
    # audit
    ("GET", "/audit/"): row(anonymous=302, visitor=403, staff=403, central_admin=200, auditor=200),
    # the operator's page of failed notifications
    ("GET", "/admin/notifications/"): row(anonymous=302, visitor=403, staff=403, central_admin=200),
    ("POST", "/admin/notifications/retry"): row(
        anonymous=302, visitor=403, staff=403, central_admin=302
    ),
}

# ---------------------------------------------------------------------------------------------
# API: no or bad token is 401; no permission is 403; another establishment's record is 404
# ---------------------------------------------------------------------------------------------
API: dict[tuple[str, str], dict[str, Expect]] = {
    ("GET", "/api/v1/openapi.json"): everyone(200),
    ("POST", "/api/v1/auth/token"): row(anonymous=401, visitor=200, staff=200),
    ("POST", "/api/v1/auth/revoke"): row(anonymous=401, visitor=200, staff=200),
    ("POST", "/api/v1/visitors/register"): everyone(201),
    ("GET", "/api/v1/establishments"): row(anonymous=401, visitor=403, staff=200),
    ("POST", "/api/v1/establishments"): row(
        anonymous=401, visitor=403, staff=403, central_admin=201
    ),
    ("POST", "/api/v1/users"): row(
        anonymous=401, visitor=403, staff=403, central_admin=201, director=(201, 403)
    ),
    ("GET", "/api/v1/detainees"): row(anonymous=401, visitor=403, staff=200),
    ("POST", "/api/v1/detainees"): row(
        # another establishment is unknown to a clerk: a field error on "establishment"
        anonymous=401,
        visitor=403,
        staff=403,
        registry_clerk=(201, 422),
    ),
    ("GET", "/api/v1/detainees/<registration_number>"): row(
        anonymous=401, visitor=403, staff=SCOPED, central_admin=200, auditor=200
    ),
    ("POST", "/api/v1/detainees/<registration_number>/release"): row(
        anonymous=401, visitor=403, staff=403, registry_clerk=SCOPED
    ),
    ("GET", "/api/v1/audit/events"): row(
        anonymous=401, visitor=403, staff=403, central_admin=200, auditor=200
    ),
}

# requests that end the session or token go last, so the rest are tried while signed in
LAST = [("POST", "/account/password"), ("POST", "/logout"), ("POST", "/api/v1/auth/revoke")]


# ---------------------------------------------------------------------------------------------
# the world every check runs in
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    user: Any  # the signed-in user (None for anonymous)
    detainees: dict[str, str]  # where -> registration number
    to_release: dict[str, str]
    users: dict[str, int]  # where -> id of a nurse there


@pytest.fixture
def world_for(app: Any, factories: Any) -> Any:
    def build(who: str) -> World:
        with app.app_context():
            factories.establishment("EST-A")
            factories.establishment("EST-B")
            dets = {w: factories.detainee(e).registration_number for w, e in _WHERE.items()}
            rel = {w: factories.detainee(e).registration_number for w, e in _WHERE.items()}
            users = {w: factories.user("nurse", (e,)).id for w, e in _WHERE.items()}
            user = None
            if who != "anonymous":
                codes = () if who in ALL_SEEING or who == "visitor" else ("EST-A",)
                user = factories.user(who, codes)
        return World(user, dets, rel, users)

    return build


_WHERE = {"own": "EST-A", "other": "EST-B"}


def _path(rule: str, method: str, where: str, world: World) -> str:
    est = _WHERE[where]
    rn = world.detainees[where]
    if rule.endswith("/release") and method == "POST":
        rn = world.to_release[where]
    path = rule.replace("<registration_number>", rn).replace("<code>", est)
    path = path.replace("<int:user_id>", str(world.users[where])).replace("<role>", "nurse")
    return path


def _is_scoped(rule: str) -> bool:
    return bool(re.search(r"<(registration_number|code|int:user_id)>", rule))


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def _page_data(method: str, rule: str, where: str, world: World) -> dict[str, Any] | None:
    est = _WHERE[where]
    if method != "POST":
        return None
    if rule == "/language":
        return {"lang": "fr", "next": "/"}
    if rule in ("/login", "/register", "/logout"):
        return {}
    if rule == "/account/password":
        return {"current_password": "not-my-password", "new_password": "x" * 12}
    if rule.startswith("/detainees/"):
        if rule.endswith("/release"):
            return {"note": "Fin de peine"}
        return {
            "first_name": "Rachid",
            "last_name": "Ouazzani",
            "first_name_ar": "رشيد",
            "last_name_ar": "الوزاني",
            "birth_date": "1979-11-30",
            "sex": "M",
            "establishment": est,
            "legal_status": "pretrial",
        }
    if rule == "/establishments/new":
        return {
            "code": f"N{_unique()}"[:8].upper(),
            "name": "Prison locale nouvelle",
            "name_ar": "السجن المحلي الجديد",
            "kind": "local_prison",
            "capacity": "800",
            "active": "y",
        }
    if rule == "/establishments/<code>":
        return {
            "code": est,
            "name": f"Prison locale {est}",
            "name_ar": f"السجن المحلي {est}",
            "kind": "local_prison",
            "capacity": "1200",
            "active": "y",
        }
    if rule == "/admin/users/new":
        return {
            "username": f"new{_unique()}",
            "password": "a-long-password-1",
            "full_name": "Nouvel Agent",
            "roles": ["nurse"],
            "establishments": [est],
        }
    if rule == "/admin/users/<int:user_id>":
        return {
            "full_name": "Infirmier",
            "roles": ["nurse"],
            "establishments": [est],
            "is_active": "y",
        }
    if rule == "/admin/roles/<role>":
        return {"permissions": ["portal.dashboard", "establishments.view", "detainees.view"]}
    if rule == "/admin/notifications/retry":
        return {"message": ["1"]}
    raise AssertionError(f"no form data for {method} {rule}")


def _api_body(method: str, rule: str, where: str, world: World) -> dict[str, Any] | None:
    est = _WHERE[where]
    if method != "POST" or rule.endswith("/release") or rule.endswith("/revoke"):
        return None
    if rule == "/api/v1/auth/token":
        username = world.user.username if world.user else "nobody"
        return {"username": username, "password": TEST_PASSWORD}
    if rule == "/api/v1/visitors/register":
        return {
            "username": f"fam{_unique()}",
            "password": "un-mot-de-passe-long",
            "full_name": "Famille Test",
            "national_id": "BE445566",
            "phone": "0612345678",
        }
    if rule == "/api/v1/establishments":
        return {
            "code": f"N{_unique()}"[:8].upper(),
            "name": "Nouvelle",
            "kind": "local_prison",
            "capacity": 500,
        }
    if rule == "/api/v1/users":
        return {
            "username": f"api{_unique()}",
            "password": "a-long-password-1",
            "full_name": "Agent API",
            "roles": ["nurse"],
            "establishments": [est],
        }
    if rule == "/api/v1/detainees":
        return {
            "first_name": "Said",
            "last_name": "Tazi",
            "birth_date": "1988-01-09",
            "sex": "M",
            "establishment": est,
            "legal_status": "convicted",
        }
    raise AssertionError(f"no body for {method} {rule}")


def _ordered(table: dict[tuple[str, str], Any]) -> list[tuple[str, str]]:
    keys = [k for k in table if k not in LAST]
    return keys + [k for k in LAST if k in table]


def _expected(value: Expect, where: str) -> int:
    if isinstance(value, tuple):
        return value[0] if where == "own" else value[1]
    return value


def _run(table, who, world, call) -> list[str]:
    mismatches = []
    for method, rule in _ordered(table):
        places = (
            ("own", "other")
            if _is_scoped(rule) or isinstance(table[(method, rule)][who], tuple)
            else ("own",)
        )
        for where in places:
            expected = _expected(table[(method, rule)][who], where)
            status, detail = call(method, rule, where)
            if status != expected:
                mismatches.append(
                    f"{who} {method} {rule} ({where}): expected {expected}, got {status} {detail}"
                )
    return mismatches


# ---------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_core_pages(app, client, world_for, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)  # a crash is a mismatch: 500
    world = world_for(who)
    if world.user is not None:
        resp = client.post(
            "/login", data={"username": world.user.username, "password": TEST_PASSWORD}
        )
        assert resp.status_code == 302

    def call(method: str, rule: str, where: str) -> tuple[int, str]:
        path = _path(rule, method, where, world)
        data = _page_data(method, rule, where, world)
        resp = client.open(path, method=method, data=data)
        detail = resp.headers.get("Location", "")
        if resp.status_code == 302 and world.user is None:
            assert "/login" in detail or rule in ("/language", "/"), (rule, detail)
        return resp.status_code, detail

    mismatches = _run(PAGES, who, world, call)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("who", WHO)
def test_core_api(app, client, world_for, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    world = world_for(who)
    headers: dict[str, str] = {}
    if world.user is not None:
        resp = client.post(
            "/api/v1/auth/token", json={"username": world.user.username, "password": TEST_PASSWORD}
        )
        assert resp.status_code == 200
        headers = {"Authorization": f"Bearer {resp.json['token']}"}

    def call(method: str, rule: str, where: str) -> tuple[int, str]:
        path = _path(rule, method, where, world)
        body = _api_body(method, rule, where, world)
        resp = client.open(path, method=method, json=body, headers=headers)
        assert resp.is_json, (path, resp.status_code)
        if resp.status_code >= 400:
            error = resp.json["error"]
            assert set(error) >= {"code", "message", "fields"}, (path, error)
        return resp.status_code, str(resp.json)[:300]

    mismatches = _run(API, who, world, call)
    assert not mismatches, "\n".join(mismatches)


def test_anonymous_api_with_a_bad_token_is_401(client):
    headers = {"Authorization": "Bearer not-a-token"}
    for method, rule in API:
        if API[(method, rule)]["anonymous"] != 401 or rule == "/api/v1/auth/token":
            continue
        path = rule.replace("<registration_number>", "X-0000")
        resp = client.open(path, method=method, json={}, headers=headers)
        assert resp.status_code == 401, (method, rule)
        assert resp.json["error"]["code"] in ("unauthorized", "invalid_credentials")


def test_every_core_route_is_in_the_table(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in CORE_BLUEPRINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, rule.rule))
    table = set(PAGES) | set(API)
    missing = sorted(routes - table)
    stale = sorted(table - routes)
    assert not missing, f"core routes without a permission row: {missing}"
    assert not stale, f"permission rows for routes that no longer exist: {stale}"


def test_every_row_names_every_role():
    for key, table in {**PAGES, **API}.items():
        assert set(table) == set(WHO), key
