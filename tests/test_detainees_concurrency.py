"""A national id is held at most once, even when two clerks admit the same person at once
(the race runs on PostgreSQL only: ``concurrency``, make test-postgres)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.db import session
from core.detainees.models import Detainee
from core.detainees.services import admit, release
from core.errors import Conflict
from core.principals import SYSTEM
from core.testing import Factories

PERSON = {
    "first_name": "Said",
    "last_name": "Berrada",
    "birth_date": "1979-02-11",
    "sex": "M",
    "legal_status": "pretrial",
    "national_id": "BK777111",
    "establishment": "EST-A",
}


@pytest.mark.concurrency
def test_simultaneous_admissions_of_one_national_id(fresh_app):
    with fresh_app.app_context():
        Factories(fresh_app).establishment("EST-A")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with fresh_app.app_context():
            barrier.wait()
            try:
                admit(dict(PERSON), SYSTEM)
                session().commit()
                result = "admitted"
            except Conflict as exc:
                session().rollback()
                result = exc.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["admitted"] + ["already_held"] * 7
    with fresh_app.app_context():
        held = session().scalar(
            select(func.count()).select_from(Detainee).where(Detainee.national_id == "BK777111")
        )
        assert held == 1


def test_released_person_can_be_admitted_again(app):
    with app.app_context():
        first = Factories(app).detainee(national_id="BK777222")
        try:
            admit({**PERSON, "national_id": "BK777222"}, SYSTEM)
        except Conflict as exc:
            assert exc.code == "already_held"
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("a held national id was admitted twice")
        session().rollback()
        first = session().get(Detainee, first.id)
        release(first, SYSTEM)
        again = admit({**PERSON, "national_id": "BK777222"}, SYSTEM)
        session().commit()
        assert again.registration_number != first.registration_number


def test_search_keys_are_rebuilt_when_their_version_changes(app, monkeypatch):
    from core.detainees import names
    from core.detainees.models import DetaineeNameKey
    from core.detainees.services import reindex_names, search, stored_keys_version

    with app.app_context():
        det = Factories(app).detainee(first_name="Othmane", last_name="Skalli")
        reindex_names()
        # a stale index: the keys of this person were lost (as after a change of names.py)
        session().query(DetaineeNameKey).filter_by(detainee_id=det.id).delete()
        assert search(SYSTEM, "Othmane Skalli").total == 0
        assert reindex_names() == 0  # same version: nothing to do
        monkeypatch.setattr(names, "KEYS_VERSION", names.KEYS_VERSION + 1)
        assert reindex_names() >= 1
        assert stored_keys_version() == names.KEYS_VERSION
        assert search(SYSTEM, "عثمان السقلي").items[0].id == det.id
