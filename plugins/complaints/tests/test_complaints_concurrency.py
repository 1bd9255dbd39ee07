"""Simultaneous requests on a real PostgreSQL database (``concurrency``: make test-postgres):
the daily limit holds, references are unique, and two officers answering at once answer once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session
from core.testing import Factories
from plugins.complaints.models import Complaint, Entry

from .helpers import GOOD, link, token

pytestmark = pytest.mark.concurrency


def _run_at_once(app: Any, n: int, call: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = call(client, i)
        except Exception as exc:  # reported, never hidden
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_twelve_simultaneous_filings_keep_the_daily_limit_and_unique_references(fresh_app):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        det = factories.detainee("EST-A")
        visitor = factories.visitor()
    link(fresh_app, factories, visitor, det)
    headers = token(fresh_app, visitor)

    def file(client: Any, i: int) -> int:
        return client.post(
            "/api/v1/complaints", json={**GOOD, "subject": f"n{i}"}, headers=headers
        ).status_code

    statuses = _run_at_once(fresh_app, 12, file)
    assert Counter(statuses) == {201: 3, 429: 9}, statuses
    with fresh_app.app_context():
        refs = list(session().scalars(select(Complaint.reference)))
        assert len(refs) == len(set(refs)) == 3


def test_two_officers_answering_at_once_answer_once(fresh_app):
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        det = factories.detainee("EST-A")
        officers = [factories.user("complaints_officer", ("EST-A",)) for _i in range(6)]
        staff = factories.user("complaints_officer", ("EST-A",))
    resp = fresh_app.test_client().post(
        "/api/v1/complaints",
        json={**GOOD, "detainee": det.registration_number, "channel": "oral"},
        headers=token(fresh_app, staff),
    )
    ref = resp.json["reference"]
    heads = [token(fresh_app, o) for o in officers]

    def answer(client: Any, i: int) -> int:
        return client.post(
            f"/api/v1/complaints/{ref}/answer", json={"body": f"r{i}"}, headers=heads[i]
        ).status_code

    statuses = _run_at_once(fresh_app, 6, answer)
    assert Counter(statuses) == {200: 1, 409: 5}, statuses
    with fresh_app.app_context():
        answers = session().scalar(
            select(func.count()).select_from(Entry).where(Entry.kind == "answer")
        )
        assert answers == 1
