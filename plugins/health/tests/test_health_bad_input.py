"""Bad input never makes a 500 nor records anything: query strings of every health page and
endpoint, API bodies (NUL, huge numbers, extreme dates, wrong types, implausible vitals) and
forms."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import session
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from core.testing_bad_input import (
    BAD_BODY_DATES,
    BAD_BODY_TIMESTAMPS,
    BAD_TEXTS,
    get_routes,
    post_values,
    walk_queries,
)
from plugins.health.models import Consultation
from plugins.health.services import consultations, prescriptions
from plugins.health.services.access import open_file
from plugins.health.tests.helpers import CONSULTATION, world

HUGE = 10**30


@pytest.fixture
def ready(app, factories):
    w = world(app, factories)
    with app.app_context():
        acc = open_file(w["rn"], SYSTEM)
        c = consultations.create(acc, reason="r", notes="n", sign=True)
        p = prescriptions.create(acc, medication="m", dosage="d", times="08:00")
        prescriptions.sign(acc, p.id)
        session().commit()
        w.update(cid=c.id, pid=p.id)
    return w


def _count(app):
    with app.app_context():
        return session().scalar(select(func.count()).select_from(Consultation))


def test_every_health_route_answers_bad_queries(monkeypatch, app, client, ready, api_headers):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    w = ready
    client.post("/login", data={"username": w["doctor"].username, "password": TEST_PASSWORD})
    paths = get_routes(
        app,
        blueprints=["health", "health_api"],
        variables={"rn": w["rn"], "cid": w["cid"], "pid": w["pid"], "unit_id": 1, "ref_id": 1},
    )
    assert f"/health/files/{w['rn']}" in paths and f"/api/v1/health/files/{w['rn']}" in paths
    failures = walk_queries(client, paths, headers=api_headers(w["doctor"]))
    assert not failures, "\n".join(map(str, failures))


def test_api_bodies_refuse_bad_values(app, client, ready, api_headers):
    w = ready
    h = api_headers(w["doctor"])
    rn = w["rn"]

    def send(path):
        return lambda body: client.post(path, json=body, headers=h)

    before = _count(app)
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/consultations"),
        CONSULTATION,
        {
            "reason": [*BAD_TEXTS, "", "x" * 501, 12, None],
            "notes": [*BAD_TEXTS, "", "x" * 5001, ["a"]],
            "diagnosis": ["x" * 1001, 3],
            "vitals": [
                {"temperature": "NaN"},
                {"temperature": "1e999"},
                {"pulse": HUGE},
                {"pulse": -5},
                {"spo2": "101"},
                {"unknown": 1},
                "hot",
                {"temperature": True},
            ],
            "telemedicine": ["yes"],
        },
    )
    assert not failures, failures
    assert _count(app) == before
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/fitness"),
        {"fit_to_travel": False},
        {"fit_to_travel": ["no", 0, None], "until": list(BAD_BODY_DATES), "needs": list(BAD_TEXTS)},
    )
    assert not failures, failures
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/prescriptions"),
        {"medication": "m", "dosage": "d"},
        {
            "times": ["25:00", "8h", ",".join(f"0{h}:00" for h in range(9)), "\x00"],
            "starts_on": list(BAD_BODY_DATES),
            "ends_on": ["2000-01-01", *BAD_BODY_DATES],
            "medication": ["", "a\nb", *BAD_TEXTS],
        },
    )
    assert not failures, failures
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/prescriptions/{w['pid']}/doses"),
        {"due_at": "2026-01-01T08:00:00+00:00", "outcome": "given"},
        {"due_at": [*BAD_BODY_TIMESTAMPS, "2026-01-01T08:00:00", "soon"], "outcome": ["eaten"]},
    )
    assert not failures, failures
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/appointments"),
        {"starts_at": "2099-01-01T08:00:00+00:00", "purpose": "p"},
        {
            "starts_at": list(BAD_BODY_TIMESTAMPS),
            "unit_id": [HUGE, -1, 0],
            "purpose": list(BAD_TEXTS),
        },
    )
    assert not failures, failures
    failures = post_values(
        send(f"/api/v1/health/files/{rn}/allergies"),
        {"kind": "drug", "substance": "s"},
        {"kind": ["plant"], "severity": ["deadly"], "substance": ["", *BAD_TEXTS]},
    )
    assert not failures, failures
    for raw in (b"{", b"[]", b'{"reason": NaN}', b"\xff"):
        resp = client.post(
            f"/api/v1/health/files/{rn}/consultations",
            data=raw,
            headers={**h, "Content-Type": "application/json"},
        )
        assert resp.status_code == 400, raw
    assert client.get("/api/v1/health/files/%00", headers=h).status_code == 404
    assert client.get(f"/api/v1/health/files/{'9' * 500}", headers=h).status_code == 404


def test_forms_refuse_bad_values(app, client, ready):
    w = ready
    rn = w["rn"]
    client.post("/login", data={"username": w["doctor"].username, "password": TEST_PASSWORD})
    before = _count(app)
    good = {"reason": "r", "notes": "n"}
    failures = post_values(
        lambda body: client.post(f"/health/files/{rn}/consultations/new", data=body),
        good,
        {"reason": list(BAD_TEXTS), "notes": ["\x00"], "temperature": ["99", "abc", "9" * 9]},
    )
    assert not failures, failures
    assert _count(app) == before
    failures = post_values(
        lambda body: client.post(f"/health/files/{rn}/prescriptions/new", data=body),
        {"medication": "m", "dosage": "d"},
        {
            "times": ["24:00"],
            "starts_on": ["9999-12-31", "0001-01-01"],
            "medication": list(BAD_TEXTS),
        },
    )
    assert not failures, failures
    failures = post_values(
        lambda body: client.post(f"/health/files/{rn}/appointments/new", data=body),
        {"day": "2099-01-01", "time": "09:00", "purpose": "p"},
        {"day": ["9999-12-31", "0001-01-01", "x"], "time": ["25:00"], "unit_id": ["99999"]},
    )
    assert not failures, failures
    failures = post_values(
        lambda body: client.post(f"/health/files/{rn}/vaccinations/new", data=body),
        {"vaccine": "BCG", "given_on": "2020-01-01"},
        {"given_on": ["9999-12-31", "2999-01-01"], "vaccine": list(BAD_TEXTS)},
    )
    assert not failures, failures
    resp = client.post(
        f"/health/files/{rn}/prescriptions/{w['pid']}/dose",
        data={"due_at": "not-a-time", "outcome": "given"},
    )
    assert resp.status_code == 303
