"""The permission matrix: every role × own / other establishment × every health page and
endpoint. Clinical contents reach the care team of the detainee's establishment only, and each
of their reads leaves an audit event; everybody else gets no clinical word."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.health.services import consultations, prescriptions
from plugins.health.services.access import open_file

NOTE = "MARKER-NOTE-7731"
MED = "MARKER-MED-5521"

ROLES = [
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "head_doctor",
    "medical_inspector",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
    "visitor",
    None,  # anonymous
]
CARE = {"doctor", "nurse", "head_doctor"}


@pytest.fixture
def health_world(app, factories):
    with app.app_context():
        factories.establishment("EST-A")
        factories.establishment("EST-B")
        det = factories.detainee("EST-A")
        acc = open_file(det.registration_number, SYSTEM)
        c = consultations.create(acc, reason="Douleur", notes=NOTE, diagnosis=NOTE, sign=True)
        p = prescriptions.create(acc, medication=MED, dosage="1 cp", times="08:00")
        session().commit()
        return {"rn": det.registration_number, "cid": c.id, "pid": p.id}


def _pages(w):
    rn, cid, pid = w["rn"], w["cid"], w["pid"]
    return [
        ("GET", f"/health/files/{rn}", True),
        ("GET", f"/health/files/{rn}/consultations", True),
        ("GET", f"/health/files/{rn}/consultations/{cid}", True),
        ("GET", f"/health/files/{rn}/prescriptions/{pid}", True),
        ("GET", f"/health/files/{rn}/history", True),
        ("GET", f"/health/files/{rn}/screening", False),
        ("GET", f"/health/files/{rn}/consultations/new", False),
        ("GET", f"/api/v1/health/files/{rn}", True),
        ("GET", f"/health/files/{rn}/access-log", False),
        ("GET", f"/api/v1/health/files/{rn}/access-log", False),
        ("GET", f"/detainees/{rn}", False),
        ("GET", "/health/", False),
        ("GET", "/health/figures", False),
        ("GET", "/health/units", False),
        ("GET", "/dashboard", False),
    ]


def _reads(app, rn):
    with app.app_context():
        return session().scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "health_file.read", AuditEvent.object_id == rn)
        )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["EST-A", "EST-B"])
def test_contents_reach_only_the_care_team(app, factories, health_world, role, where):
    w = health_world
    client = app.test_client()
    headers = {}
    if role is not None:
        with app.app_context():
            roles = ["doctor", "head_doctor"] if role == "head_doctor" else [role]
            est = () if role in ("visitor", "auditor", "central_admin") else (where,)
            user = factories.user(roles, est)
        if role != "visitor":
            token = client.post(
                "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
            )
            if token.status_code == 200:
                headers = {"Authorization": f"Bearer {token.json['token']}"}
        resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert resp.status_code == 302
    care_team = role in CARE and where == "EST-A"
    for method, path, has_contents in _pages(w):
        before = _reads(app, w["rn"])
        resp = client.open(path, method=method, headers=headers if "/api/" in path else {})
        body = resp.get_data(as_text=True)
        where_ = f"{role}@{where} {path} -> {resp.status_code}"
        assert resp.status_code < 500, where_
        if care_team:
            assert resp.status_code == 200, where_
            if has_contents:
                assert NOTE in body or MED in body, where_
                assert _reads(app, w["rn"]) > before, f"no audited read: {where_}"
        else:
            assert NOTE not in body and MED not in body, f"contents leaked: {where_}"
            if path.startswith(("/health/files/", "/api/v1/health/files/")) and has_contents:
                assert resp.status_code in (302, 401, 403, 404), where_
                assert _reads(app, w["rn"]) == before, where_


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [
        ("auditor", None, 200),
        ("central_admin", None, 200),
        ("doctor", "EST-A", 200),
        ("nurse", "EST-A", 200),
        ("doctor", "EST-B", 404),
        ("director", "EST-A", 403),
        ("registry_clerk", "EST-A", 403),
    ],
)
def test_access_log_is_for_the_care_team_and_auditors(
    app, factories, api_headers, health_world, role, where, status
):
    with app.app_context():
        user = factories.user(role, (where,) if where else ())
    client = app.test_client()
    h = api_headers(user)
    resp = client.get(f"/api/v1/health/files/{health_world['rn']}/access-log", headers=h)
    assert resp.status_code == status, resp.json


def test_director_sees_counts_never_names_nor_contents(app, client, factories, health_world):
    with app.app_context():
        director = factories.user("director", ("EST-A",))
        name = "El Idrissi"
    client.post("/login", data={"username": director.username, "password": TEST_PASSWORD})
    page = client.get("/health/figures")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert NOTE not in body and MED not in body and name not in body
    assert client.get(f"/health/files/{health_world['rn']}").status_code == 403


def test_a_nurse_never_signs_even_if_granted(app, client, factories, api_headers, health_world):
    """The signing permission given to nurses by an administrator does not make them doctors."""
    from core.identity.models import RolePermission

    with app.app_context():
        session().add(RolePermission(role_code="nurse", permission_code="health.sign"))
        session().commit()
        nurse = factories.user("nurse", ("EST-A",))
    h = api_headers(nurse)
    rn, pid = health_world["rn"], health_world["pid"]
    resp = client.post(f"/api/v1/health/files/{rn}/prescriptions/{pid}/sign", headers=h)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "doctor_only"


def test_a_clerk_granted_health_read_still_reads_nothing(
    app, client, factories, api_headers, health_world
):
    from core.identity.models import RolePermission

    with app.app_context():
        session().add(RolePermission(role_code="registry_clerk", permission_code="health.read"))
        session().commit()
        clerk = factories.user("registry_clerk", ("EST-A",))
    resp = client.get(f"/api/v1/health/files/{health_world['rn']}", headers=api_headers(clerk))
    assert resp.status_code == 403
    assert NOTE not in resp.get_data(as_text=True)
