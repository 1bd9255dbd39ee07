"""Establishments: list with occupancy (page and API), create and edit (central administration
only), codes unique, kinds and capacities checked, every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.db import session
from core.detainees import services as detainees
from core.establishments.models import Establishment
from core.principals import SYSTEM

STAFF = [
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
]
ALL_EST = {"central_admin", "auditor"}
NEW = {"code": "RAB-NEW", "name": "Prison locale Rabat", "kind": "local_prison", "capacity": 800}


@pytest.fixture(autouse=True)
def _english(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def occupied(app, factories):
    """EST-A (capacity 1000) holds 3 detainees, one more released; EST-B (capacity 10) holds 1."""
    with app.app_context():
        factories.establishment("EST-A", capacity=1000)
        factories.establishment("EST-B", capacity=10)
        for i in range(3):
            factories.detainee("EST-A", first_name=f"Ahmed{i}")
        gone = factories.detainee("EST-A", first_name="Gone")
        detainees.release(gone, SYSTEM)
        factories.detainee("EST-B")
        session().commit()


def _count() -> int:
    return session().scalar(select(func.count()).select_from(Establishment)) or 0


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------


def test_list_page_anonymous_is_sent_to_sign_in(client):
    resp = client.get("/establishments/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_list_page_refused_to_visitors(app, client, factories):
    with app.app_context():
        visitor = factories.visitor()
    client.post("/login", data={"username": visitor.username, "password": "test-password-123"})
    assert client.get("/establishments/").status_code == 403


@pytest.mark.parametrize("role", STAFF)
def test_list_page_shows_occupancy_scoped(client, login_as, occupied, role):
    login_as(role, () if role in ALL_EST else "EST-A")
    resp = client.get("/establishments/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "EST-A" in body
    assert ("EST-B" in body) == (role in ALL_EST)
    assert ("New establishment" in body) == (role == "central_admin")


def test_list_page_occupancy_figures(client, login_as, occupied):
    login_as("central_admin", ())
    body = client.get("/establishments/").get_data(as_text=True)
    row_b = body[body.index(">EST-B<") :]
    row_b = row_b[: row_b.index("</tr>")]
    assert ">1<" in row_b and ">10<" in row_b and "10%" in row_b


@pytest.mark.parametrize("role", STAFF)
def test_api_list_with_population_scoped(client, factories, api_headers, app, occupied, role):
    with app.app_context():
        user = factories.user(role, () if role in ALL_EST else ("EST-A",))
    resp = client.get("/api/v1/establishments", headers=api_headers(user))
    assert resp.status_code == 200
    data = resp.json
    assert set(data) == {"items", "total", "page", "per_page"}
    assert (data["page"], data["per_page"]) == (1, 20)
    by_code = {item["code"]: item for item in data["items"]}
    assert by_code["EST-A"]["population"] == 3
    assert by_code["EST-A"]["capacity"] == 1000
    assert {"code", "name", "kind", "capacity", "population"} <= set(by_code["EST-A"])
    assert ("EST-B" in by_code) == (role in ALL_EST)
    if role in ALL_EST:
        assert by_code["EST-B"]["population"] == 1
    assert data["total"] == len(data["items"])


def test_api_list_needs_a_staff_token(app, client, factories, api_headers):
    resp = client.get("/api/v1/establishments")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    bad = client.get("/api/v1/establishments", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    with app.app_context():
        visitor = factories.visitor()
    resp = client.get("/api/v1/establishments", headers=api_headers(visitor))
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "forbidden"


def test_api_list_pagination(app, client, factories, api_headers):
    with app.app_context():
        for i in range(5):
            factories.establishment(f"PG-{i}")
        admin = factories.user("central_admin", ())
    headers = api_headers(admin)
    total = client.get("/api/v1/establishments", headers=headers).json["total"]
    page2 = client.get("/api/v1/establishments?page=2&per_page=2", headers=headers).json
    assert (page2["page"], page2["per_page"], page2["total"]) == (2, 2, total)
    assert len(page2["items"]) == 2
    page1 = client.get("/api/v1/establishments?page=1&per_page=2", headers=headers).json
    assert not {i["code"] for i in page1["items"]} & {i["code"] for i in page2["items"]}
    beyond = client.get("/api/v1/establishments?page=999", headers=headers).json
    assert beyond["items"] == [] and beyond["total"] == total


# --------------------------------------------------------------------------------------------
# create (API)
# --------------------------------------------------------------------------------------------


def test_api_create_by_central_admin(app, client, factories, api_headers):
    with app.app_context():
        admin = factories.user("central_admin", ())
    resp = client.post("/api/v1/establishments", json=NEW, headers=api_headers(admin))
    assert resp.status_code == 201, resp.json
    assert resp.json["code"] == "RAB-NEW"
    assert resp.json["population"] == 0
    assert resp.json["kind"] == "local_prison"
    with app.app_context():
        event = session().scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "establishment.create")
            .where(AuditEvent.object_id == "RAB-NEW")
        )
        assert event.actor_id == admin.id


@pytest.mark.parametrize("role", [r for r in STAFF if r != "central_admin"])
def test_api_create_refused_to_others(app, client, factories, api_headers, role):
    with app.app_context():
        user = factories.user(role, () if role in ALL_EST else ("EST-A",))
        before = _count()
    resp = client.post("/api/v1/establishments", json=NEW, headers=api_headers(user))
    assert resp.status_code == 403
    with app.app_context():
        assert _count() == before


def test_api_create_anonymous_is_401(client):
    assert client.post("/api/v1/establishments", json=NEW).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "EST-A"}, "code"),  # duplicate
        ({"code": "est-a"}, "code"),  # duplicate once upper-cased
        ({"code": "x"}, "code"),
        ({"code": "BAD CODE!"}, "code"),
        ({"kind": "castle"}, "kind"),
        ({"kind": None}, "kind"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 10**9}, "capacity"),
        ({"capacity": "12"}, "capacity"),
        ({"capacity": 12.5}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_api_create_bad_values_are_field_errors(app, client, factories, api_headers, change, field):
    with app.app_context():
        factories.establishment("EST-A")
        admin = factories.user("central_admin", ())
        before = _count()
    resp = client.post("/api/v1/establishments", json={**NEW, **change}, headers=api_headers(admin))
    assert resp.status_code == 422, resp.json
    error = resp.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"] and error["fields"][field]
    with app.app_context():
        assert _count() == before


def test_api_create_missing_fields(app, client, factories, api_headers):
    with app.app_context():
        admin = factories.user("central_admin", ())
    resp = client.post("/api/v1/establishments", json={}, headers=api_headers(admin))
    assert resp.status_code == 422
    assert {"code", "name", "kind", "capacity"} <= set(resp.json["error"]["fields"])


# --------------------------------------------------------------------------------------------
# create and edit (pages)
# --------------------------------------------------------------------------------------------


FORM = {
    **NEW,
    "capacity": "800",
    "name_ar": "السجن المحلي الرباط",
    "region": "Rabat",
    "city": "Rabat",
}


@pytest.mark.parametrize("role", [r for r in STAFF if r != "central_admin"])
def test_create_and_edit_pages_refused_to_others(client, login_as, factories, app, role):
    with app.app_context():
        factories.establishment("EST-A")
    login_as(role, () if role in ALL_EST else "EST-A")
    assert client.get("/establishments/new").status_code == 403
    assert client.post("/establishments/new", data=FORM).status_code == 403
    assert client.get("/establishments/EST-A").status_code == 403
    assert client.post("/establishments/EST-A", data=FORM).status_code == 403


def test_create_and_edit_pages_anonymous(client):
    assert client.get("/establishments/new").status_code == 302
    assert client.get("/establishments/EST-A").status_code == 302


def test_create_page_by_central_admin(app, client, login_as):
    login_as("central_admin", ())
    assert client.get("/establishments/new").status_code == 200
    resp = client.post("/establishments/new", data=FORM)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "RAB-NEW"))
        assert (est.capacity, est.region, est.name_ar) == (800, "Rabat", FORM["name_ar"])


def test_edit_page_saves_and_audits_the_diff(app, client, login_as, factories):
    with app.app_context():
        factories.establishment("EST-A", capacity=1000)
    admin = login_as("central_admin", ())
    page = client.get("/establishments/EST-A")
    assert page.status_code == 200
    assert 'value="1000"' in page.get_data(as_text=True)
    data = {**FORM, "code": "IGNORED", "capacity": "1200", "active": "y"}
    resp = client.post("/establishments/EST-A", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        est = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        assert est.capacity == 1200
        event = session().scalar(
            select(AuditEvent).where(
                AuditEvent.action == "establishment.update", AuditEvent.object_id == "EST-A"
            )
        )
        assert event.summary["capacity"] == ["1000", "1200"]
        assert event.actor_id == admin.id
    assert client.get("/establishments/NOPE").status_code == 404


@pytest.mark.concurrency
def test_concurrent_creations_of_one_code_make_one_establishment(fresh_app):
    import threading

    from core.errors import ValidationFailed
    from core.establishments.services import create_establishment

    outcomes: list[str] = []
    start = threading.Barrier(4)

    def create() -> None:
        with fresh_app.app_context():
            start.wait()
            try:
                create_establishment(
                    code="SAME-1", name="Prison", kind="local_prison", capacity=10, actor=SYSTEM
                )
                session().commit()
                outcomes.append("created")
            except ValidationFailed as exc:
                session().rollback()
                outcomes.append(f"refused:{sorted(exc.fields)}")

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created"] + ["refused:['code']"] * 3
    with fresh_app.app_context():
        count = session().scalar(
            select(func.count()).select_from(Establishment).where(Establishment.code == "SAME-1")
        )
        assert count == 1
