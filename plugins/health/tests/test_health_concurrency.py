"""Simultaneous requests on a real PostgreSQL database (``concurrency``: make test-postgres):
one dose is recorded once, a prescription signed once, an appointment changes state once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories
from plugins.health.models import DoseRecord
from plugins.health.services import prescriptions
from plugins.health.services.access import open_file
from plugins.health.services.localtime import local_time, today_local

pytestmark = pytest.mark.concurrency


def _token(app: Any, user: Any) -> dict[str, str]:
    resp = app.test_client().post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _run_at_once(app: Any, n: int, call: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = call(client)
        except Exception as exc:  # reported, never hidden
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_a_dose_and_a_signature_are_recorded_once(fresh_app):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        rn = factories.detainee("EST-A").registration_number
        nurse = factories.user("nurse", ("EST-A",))
        doctor = factories.user("doctor", ("EST-A",))
        acc = open_file(rn, SYSTEM)
        p = prescriptions.create(acc, medication="M", dosage="1", times="00:00")
        session().commit()
        pid = p.id
    doctor_h, nurse_h = _token(fresh_app, doctor), _token(fresh_app, nurse)
    base = f"/api/v1/health/files/{rn}/prescriptions/{pid}"

    statuses = _run_at_once(
        fresh_app, 8, lambda c: c.post(f"{base}/sign", headers=doctor_h).status_code
    )
    assert Counter(statuses) == {200: 1, 409: 7}, statuses

    due = local_time(today_local(), "00:00").isoformat()
    statuses = _run_at_once(
        fresh_app,
        8,
        lambda c: (
            c.post(
                f"{base}/doses", json={"due_at": due, "outcome": "given"}, headers=nurse_h
            ).status_code
        ),
    )
    assert Counter(statuses) == {201: 1, 409: 7}, statuses
    with fresh_app.app_context():
        assert session().scalar(select(func.count()).select_from(DoseRecord)) == 1
