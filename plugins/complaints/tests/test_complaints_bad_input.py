"""Bad input never gives a 500: empty, huge, NUL, CR/LF, wrong types in the API and the pages;
bad query strings on every complaints page; extreme dates on the calendar."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from core.db import session
from core.testing import TEST_PASSWORD
from core.testing_bad_input import BAD_TEXTS, get_routes, post_values, walk_queries
from plugins.complaints.models import Complaint

from .helpers import GOOD, family, file_api, token

HUGE = "ش" * 5001


def _count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(Complaint)) or 0


def test_api_filing_refuses_bad_bodies_with_the_field_named(app, factories) -> None:
    visitor, det = family(app, factories)
    c = app.test_client()
    headers = token(app, visitor)

    def send(body):
        return c.post("/api/v1/complaints", json=body, headers=headers)

    bad = {
        "category": ["", "nope", None, 12, "x" * 61, *BAD_TEXTS],
        "subject": ["", "   ", None, "x" * 201, "two\nlines", "cr\rhere", *BAD_TEXTS],
        "body": ["", "   ", None, HUGE, [], *BAD_TEXTS],
        "detainee": ["9999-999999", "x" * 21, 42, *BAD_TEXTS],
        "confidential": ["maybe", [1]],
    }
    failures = post_values(send, {**GOOD, "detainee": det.registration_number}, bad)
    assert not failures, failures
    for field in ("subject", "body", "category"):
        resp = send({**GOOD, field: ""})
        assert resp.status_code == 422 and field in resp.json["error"]["fields"], (field, resp.json)
    assert (
        c.post(
            "/api/v1/complaints",
            data="not json",
            headers={**headers, "Content-Type": "application/json"},
        ).status_code
        == 400
    )
    assert c.post("/api/v1/complaints", json=[1, 2], headers=headers).status_code in (400, 422)
    assert _count(app) == 0
    # darija in Latin script, Arabic, French and a mixed line are taken as they are
    ok = send(
        {
            **GOOD,
            "subject": "Lmakla — الأكل — repas",
            "body": "3lach had lmakla bared? C'est froid. الأكل بارد",
        }
    )
    assert ok.status_code == 201


def test_api_answer_and_appeal_refuse_bad_bodies(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    c = app.test_client()
    off = token(app, officer)
    failures = post_values(
        lambda body: c.post(f"/api/v1/complaints/{ref}/answer", json=body, headers=off),
        {"body": "ok"},
        {"body": ["", "  ", None, HUGE, *BAD_TEXTS], "outcome": ["maybe", "none", 3]},
    )
    assert not failures, failures
    assert (
        c.post(f"/api/v1/complaints/{ref}/answer", json={"body": "ok"}, headers=off).status_code
        == 200
    )
    fam = token(app, visitor)
    failures = post_values(
        lambda body: c.post(f"/api/v1/complaints/{ref}/appeal", json=body, headers=fam),
        {"reason": "ok"},
        {"reason": ["", None, "x" * 3001, *BAD_TEXTS]},
    )
    assert not failures, failures
    # unknown references, odd ones
    for odd in ("NOPE", "x" * 300, "%00", "PL-2026-%0A"):
        assert c.get(f"/api/v1/complaints/{odd}", headers=fam).status_code == 404


def _login(app, user):
    c = app.test_client()
    assert (
        c.post("/login", data={"username": user.username, "password": TEST_PASSWORD}).status_code
        == 302
    )
    return c


def test_the_filing_page_refuses_nul_crlf_huge_and_empty(app, factories) -> None:
    visitor, det = family(app, factories)
    c = _login(app, visitor)
    good = {"detainee": det.registration_number, "category": "food", "subject": "s", "body": "b"}
    for field, values in {
        "subject": ["", "a\r\nb", "x" * 201, *BAD_TEXTS],
        "body": ["", HUGE, *BAD_TEXTS],
        "category": ["", "nope"],
        "detainee": ["", "2020-000001", *BAD_TEXTS],
    }.items():
        for value in values:
            resp = c.post("/complaints/new", data={**good, field: value})
            assert resp.status_code in (400, 422), (field, value, resp.status_code)
            assert resp.status_code == 400 or 'class="error"' in resp.get_data(as_text=True), (
                field,
                value,
            )
    assert _count(app) == 0
    # a file whose name says PDF but whose bytes are an executable: refused
    resp = c.post(
        "/complaints/new",
        data={**good, "attachments": (io.BytesIO(b"MZ\x90\x00"), "facture.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and _count(app) == 0
    # four files: one too many
    files = [(io.BytesIO(b"%PDF-1"), f"f{i}.pdf") for i in range(4)]
    resp = c.post(
        "/complaints/new", data={**good, "attachments": files}, content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and _count(app) == 0


def test_action_forms_refuse_bad_values(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    c = _login(app, officer)
    for action, data in (
        ("answer", {"ans-body": ""}),
        ("answer", {"ans-body": "a\x00b"}),
        ("answer", {"ans-body": HUGE}),
        ("answer", {"ans-body": "ok", "ans-outcome": "maybe"}),
        ("note", {"note-body": ""}),
        ("inadmissible", {"inad-reason": "because"}),
        ("reroute", {"route-category": "nope", "route-comment": "x"}),
        ("assign", {"asg-user": "99999999999999999999"}),
        ("name_staff", {"named-users": ["abc"]}),
        ("close", {}),  # not answered yet: not offered
        ("nonsense", {}),
    ):
        resp = c.post(f"/complaints/{ref}/{action}", data=data)
        assert 400 <= resp.status_code < 500, (action, data, resp.status_code)
    with app.app_context():
        assert session().query(Complaint).filter_by(reference=ref).one().status.value == "received"


def test_calendar_refuses_extreme_dates_and_years(app, factories) -> None:
    with app.app_context():
        admin = factories.user("central_admin")
    c = _login(app, admin)
    for data in (
        {"h-day": "9999-12-31", "h-name_fr": "x"},
        {"h-day": "0001-01-01", "h-name_fr": "x"},
        {"h-day": "2026-06-01"},
        {"h-day": "2026-06-01", "h-name_fr": "a\x00b"},
        {"h-day": "2026-06-01", "h-name_fr": "a\r\nb"},
        {"h-day": "", "h-name_fr": "x"},
    ):
        resp = c.post("/complaints/calendar/add", data=data)
        assert resp.status_code in (400, 409, 422), (data, resp.status_code)
    for year in ("1500", "99999999999999999999", "abc", ""):
        assert c.post("/complaints/calendar/propose", data={"p-year": year}).status_code == 422, (
            year
        )


def test_complaints_pages_answer_bad_queries(monkeypatch, app, factories) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        admin = factories.user(("central_admin",))
        director = factories.user("director", ("EST-A",))
    variables = {"reference": ref, "lang": "fr", "file_id": 1, "holiday_id": 1}
    paths = get_routes(app, blueprints=["complaints", "complaints_api"], variables=variables)
    assert "/complaints/" in paths and f"/complaints/{ref}" in paths
    for user in (admin, director, visitor):
        c = _login(app, user)
        failures = walk_queries(c, paths, headers=token(app, user))
        assert not failures, "\n".join(map(str, failures))


def test_the_calendar_years_stay_within_bounds(app, factories) -> None:
    """A year outside 2000–2100 is a 400, and the calendar never links to one."""
    with app.app_context():
        admin = factories.user("central_admin")
    c = _login(app, admin)
    for year in ("1999", "2101", "99999999999999999999", "x"):
        assert c.get(f"/complaints/calendar?year={year}").status_code == 400, year
    first = c.get("/complaints/calendar?year=2000").get_data(as_text=True)
    assert "year=1999" not in first and "year=2001" in first
    last = c.get("/complaints/calendar?year=2100").get_data(as_text=True)
    assert "year=2101" not in last and "year=2099" in last
