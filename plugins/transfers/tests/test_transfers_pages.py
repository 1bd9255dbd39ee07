"""The transfers pages: who may open each (each role, own/other establishment, anonymous),
the journey through the pages, bad input, the printable papers in Arabic and French."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plugins.transfers.tests.helpers import (
    DEST,
    ORIGIN,
    OTHER,
    detainee,
    establishment_of,
    make_transfer,
    status_of,
)

ROLES = (
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


@pytest.fixture
def nocsrf(app):
    before = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.config["WTF_CSRF_ENABLED"] = before


def test_anonymous_is_sent_to_sign_in(app, client, factories):
    tid = make_transfer(app, detainee(app, factories))
    for path in (
        "/transfers/",
        "/transfers/new",
        f"/transfers/{tid}",
        "/transfers/bulk",
        "/transfers/hearings",
        f"/transfers/{tid}/order",
        f"/transfers/{tid}/escort",
    ):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert client.post(f"/transfers/{tid}/cancel", data={}).status_code in (302, 400)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("side", [ORIGIN, DEST, OTHER])
def test_who_may_open_the_pages(app, client, factories, login_as, role, side):
    tid = make_transfer(app, detainee(app, factories))
    login_as(role, side)
    viewer = role in ("central_admin", "auditor") or (
        role in ("director", "transfers_officer") and side != OTHER
    )
    index = client.get("/transfers/")
    assert index.status_code == (
        200 if role in ("central_admin", "auditor", "director", "transfers_officer") else 403
    )
    page = client.get(f"/transfers/{tid}")
    assert page.status_code == (
        200 if viewer else (404 if role in ("director", "transfers_officer") else 403)
    ), (role, side)
    for path in (f"/transfers/{tid}/order?paper=fr", f"/transfers/{tid}/escort-sheet?paper=ar"):
        assert client.get(path).status_code == page.status_code
    requester = role == "transfers_officer"
    assert client.get("/transfers/new").status_code == (200 if requester else 403)
    assert client.get("/transfers/bulk").status_code == (200 if requester else 403)
    escort = client.get(f"/transfers/{tid}/escort")
    assert escort.status_code == (
        200 if requester and side == ORIGIN else (404 if requester and side == OTHER else 403)
    )


def test_the_page_shows_only_the_steps_the_user_may_take(app, client, factories, login_as):
    tid = make_transfer(app, detainee(app, factories))
    login_as("transfers_officer", ORIGIN)
    html = client.get(f"/transfers/{tid}").get_data(as_text=True)
    assert 'data-testid="do-cancel"' in html and 'data-testid="do-approve"' not in html
    client.post("/logout")
    login_as("director", ORIGIN)
    html = client.get(f"/transfers/{tid}").get_data(as_text=True)
    assert 'data-testid="do-approve"' in html


def test_the_journey_through_the_pages(app, nocsrf, factories, login_as):
    rn = detainee(app, factories)
    from core.testing import TEST_PASSWORD

    def signed_in(role: str, est: str) -> Any:
        c = app.test_client()
        with app.app_context():
            u = factories.user(role, (est,))
        c.post("/login", data={"username": u.username, "password": TEST_PASSWORD})
        return c

    officer_a = signed_in("transfers_officer", ORIGIN)
    resp = officer_a.post(
        "/transfers/new",
        data={"detainee": rn, "kind": "transfer", "destination": DEST, "reason": "overcrowding"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    tid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    director_a = signed_in("director", ORIGIN)
    assert (
        director_a.post(
            f"/transfers/{tid}/approve", data={"approve-judicial_authorisation": ""}
        ).status_code
        == 302
    )
    officer_b = signed_in("transfers_officer", DEST)
    page = officer_b.get(f"/transfers/{tid}").get_data(as_text=True)
    assert 'data-testid="transfer-occupancy"' in page
    assert officer_b.post(f"/transfers/{tid}/accept", data={}).status_code == 302
    assert (
        officer_a.post(
            f"/transfers/{tid}/schedule",
            data={"schedule-date": "2999-01-01", "schedule-vehicle": "V-12"},
        ).status_code
        == 302
    )
    assert (
        officer_a.post(
            f"/transfers/{tid}/escort",
            data={"risk_escape": "y", "bags": "2", "seal_numbers": "S-1, S-2"},
        ).status_code
        == 302
    )
    sheet = officer_a.get(f"/transfers/{tid}/escort-sheet?paper=fr").get_data(as_text=True)
    assert "S-1, S-2" in sheet and 'lang="fr"' in sheet
    order = officer_a.get(f"/transfers/{tid}/order?paper=ar").get_data(as_text=True)
    assert 'lang="ar"' in order and 'dir="rtl"' in order
    # a paper in French does not switch the portal's language
    officer_a.get(f"/transfers/{tid}/order?paper=fr")
    assert '<html lang="ar"' in officer_a.get("/transfers/").get_data(as_text=True)
    assert officer_a.post(f"/transfers/{tid}/depart", data={}).status_code == 302
    assert officer_b.post(f"/transfers/{tid}/complete", data={}).status_code == 302
    assert status_of(app, tid) == "completed"
    assert establishment_of(app, rn) == DEST
    again = officer_b.post(f"/transfers/{tid}/complete", data={})
    assert again.status_code in (403, 409)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"reason": "other"}, "reason_text"),
        ({"reason": "teleport"}, "reason"),
        ({"detainee": "9999-999999"}, "detainee"),
        ({"detainee": "x\x00"}, "detainee"),
        ({"planned_for": "12000-01-01"}, "planned_for"),
        ({"destination": "ZZZ"}, "destination"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_bad_request_forms_are_422_beside_the_field(
    app, nocsrf, client, factories, login_as, data, field
):
    rn = detainee(app, factories)
    login_as("transfers_officer", ORIGIN)
    body = {"detainee": rn, "kind": "transfer", "destination": DEST, "reason": "overcrowding"}
    body.update(data)
    resp = client.post("/transfers/new", data=body)
    assert resp.status_code == 422
    assert f'id="{field}-error"' in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "action, data",
    [
        ("schedule", {"schedule-date": "29999-01-01"}),
        ("schedule", {"schedule-date": "2001-01-01"}),
        ("cancel", {"cancel-reason": ""}),
        ("cancel", {"cancel-reason": "\x00"}),
        ("depart", {}),
    ],
)
def test_bad_step_forms_change_nothing(app, nocsrf, client, factories, login_as, action, data):
    tid = make_transfer(app, detainee(app, factories), "accepted")
    login_as("transfers_officer", ORIGIN)
    resp = client.post(f"/transfers/{tid}/{action}", data=data)
    assert resp.status_code in (400, 409, 422)
    assert status_of(app, tid) == "accepted"


def test_bad_query_strings_are_never_500(app, client, factories, login_as):
    make_transfer(app, detainee(app, factories))
    login_as("transfers_officer", ORIGIN)
    for q in (
        "?page=99999999999999999999",
        "?status=%00",
        "?kind=x&direction=y",
        "?q=%D9%A2%D9%A0",
        "?establishment=\x00",
        "?page=-1",
    ):
        assert client.get("/transfers/" + q).status_code in (200, 400, 404), q
    assert client.get("/transfers/hearings?establishment=%00").status_code == 200
    assert client.get("/transfers/99999999999999999999").status_code == 404
    assert client.get("/transfers/bulk/99999999999999999999").status_code == 404


def test_bulk_transfer_requests_one_per_detainee_with_a_summary(
    app, nocsrf, client, factories, login_as
):
    rns = [detainee(app, factories) for _i in range(3)]
    elsewhere = detainee(app, factories, OTHER)
    make_transfer(app, rns[2])  # already under way
    login_as("transfers_officer", ORIGIN)
    numbers = "\n".join([rns[0], rns[1], rns[2], elsewhere, "nonsense"])
    resp = client.post(
        "/transfers/bulk",
        data={"origin": ORIGIN, "destination": DEST, "reason": "overcrowding", "numbers": numbers},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    summary = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="bulk-requested">2<' in summary
    assert 'data-testid="bulk-refused">3<' in summary


def test_hearings_page_records_and_charts(app, nocsrf, client, factories, login_as):
    rn = detainee(app, factories)
    login_as("transfers_officer", ORIGIN)
    page = client.get("/transfers/hearings").get_data(as_text=True)
    assert "transfers-hearings-chart" in page
    resp = client.post(
        "/transfers/hearings", data={"detainee": rn, "court": "TPI Casablanca", "escort_hours": "8"}
    )
    assert resp.status_code == 302
    bad = client.post(
        "/transfers/hearings", data={"detainee": rn, "court": "TPI", "escort_hours": "999"}
    )
    assert bad.status_code == 422
    from core.db import session
    from plugins.transfers.models import RemoteHearing

    with app.app_context():
        assert [h.escort_hours for h in session().query(RemoteHearing)] == [8]


def test_dashboard_widget_and_profile_panel(app, client, factories, login_as):
    rn = detainee(app, factories)
    make_transfer(app, rn)
    login_as("director", ORIGIN)
    dash = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="transfers-widget-approvals">1<' in dash
    profile = client.get(f"/detainees/{rn}?lang=fr").get_data(as_text=True)
    assert "transfers/" in profile
    # the panel's row names both establishments (read when shown, not joined into the read)
    panel = re.search(r'aria-labelledby="panel-transfers">.*?</section>', profile, re.S)
    assert panel, profile[-2000:]
    from core.db import session
    from core.establishments.models import Establishment

    with app.app_context():
        names = {e.code: e.name_fr for e in session().query(Establishment)}
    assert names[ORIGIN] in panel.group(0) and names[DEST] in panel.group(0)
    # the line as the transfers list shows it: its link, the detainee, kind and status
    with app.app_context():
        from plugins.transfers.models import Transfer

        transfer = session().query(Transfer).one()
        with app.test_request_context("/?lang=fr"):
            from plugins.transfers.services import kind_label, status_label

            kind, status = kind_label(transfer.kind), status_label(transfer.status)
    assert f'href="/transfers/{transfer.id}"' in panel.group(0)
    assert rn in panel.group(0) and str(kind) in panel.group(0) and str(status) in panel.group(0)


def test_the_director_approves_a_bulk_list_each_on_its_own(
    app, nocsrf, client, factories, login_as
):
    convicted = [detainee(app, factories) for _i in range(2)]
    pretrial = detainee(app, factories, legal_status="pretrial")
    login_as("transfers_officer", ORIGIN)
    resp = client.post(
        "/transfers/bulk",
        data={
            "origin": ORIGIN,
            "destination": DEST,
            "reason": "overcrowding",
            "numbers": " ".join([*convicted, pretrial]),
        },
    )
    summary_url = resp.headers["Location"]
    assert "bulk-approve" not in client.get(summary_url).get_data(as_text=True)  # officer
    assert client.post(summary_url, data={}).status_code == 403
    client.post("/logout")
    login_as("director", DEST)  # the destination's director may not approve
    assert client.post(summary_url, data={}).status_code == 403
    client.post("/logout")
    login_as("director", ORIGIN)
    page = client.post(summary_url, data={"judicial_authorisation": ""})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert pretrial in html.split("bulk-approve")[0]  # listed as not approved, with why
    from core.db import session
    from plugins.transfers.models import Transfer

    with app.app_context():
        statuses = sorted(t.status.value for t in session().query(Transfer))
    assert statuses == ["approved", "approved", "requested"]
    client.post(summary_url, data={"judicial_authorisation": "TPI 2026/9"})
    with app.app_context():
        session().expire_all()
        assert {t.status.value for t in session().query(Transfer)} == {"approved"}


def test_the_widget_splits_today_per_establishment_for_national_roles(
    app, client, factories, login_as
):
    make_transfer(app, detainee(app, factories))  # waiting at EST-A
    make_transfer(app, detainee(app, factories, OTHER), "in_transit", destination=ORIGIN)
    login_as("central_admin", ())
    dash = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="transfers-widget-per-establishment"' in dash
    from core.principals import SYSTEM
    from plugins.transfers import services

    with app.app_context():
        rows = {r.establishment.code: r for r in services.dashboard_by_establishment(SYSTEM)}
    assert rows[ORIGIN].pending_approvals == 1 and rows[ORIGIN].arrivals == 1
    assert rows[OTHER].departures == 1


def test_a_long_bulk_list_is_worked_through_by_the_task_queue(
    app, nocsrf, client, factories, login_as, monkeypatch
):
    from plugins.transfers import services
    from plugins.transfers.services import bulk

    monkeypatch.setattr(bulk, "SYNC_LIMIT", 2)
    monkeypatch.setattr(services, "SYNC_LIMIT", 2)
    rns = [detainee(app, factories) for _i in range(5)]
    officer = login_as("transfers_officer", ORIGIN)
    resp = client.post(
        "/transfers/bulk",
        data={
            "origin": ORIGIN,
            "destination": DEST,
            "reason": "overcrowding",
            "numbers": "\n".join([*rns, "bad"]),
        },
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="bulk-progress"' in page
    assert 'data-testid="bulk-requested">0<' in page
    with app.app_context():
        assert services.run_queued_batches(chunk=4) == 6  # two chunks, each committed
        assert services.run_queued_batches() == 0  # nothing left: never twice
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="bulk-progress"' not in page
    assert 'data-testid="bulk-requested">5<' in page
    assert 'data-testid="bulk-refused">1<' in page
    from core.audit.models import AuditEvent
    from core.db import session

    with app.app_context():
        actors = set(
            session().scalars(
                select_actor(AuditEvent).where(AuditEvent.action == "transfers.request")
            )
        )
    assert actors == {officer.username}  # made in the officer's name, not the system's


def select_actor(model: Any) -> Any:
    from sqlalchemy import select

    return select(model.actor_username)


def test_the_queue_search_keeps_only_what_a_registration_number_holds(
    app, client, factories, login_as
):
    """NUL and other characters in ``q`` never reach the database (PostgreSQL refuses NUL in
    text: a 500 before); Arabic-Indic digits are read as digits."""
    rn = detainee(app, factories)
    make_transfer(app, rn)
    login_as("transfers_officer", ORIGIN)
    for q in (f"{rn}\x00", f" {rn}\r\n", rn.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))):
        resp = client.get("/transfers/", query_string={"q": q, "status": "all"})
        assert resp.status_code == 200, q
        assert rn in resp.get_data(as_text=True), q
