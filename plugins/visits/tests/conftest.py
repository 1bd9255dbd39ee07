"""Shared set-up for the visits tests: an establishment with a detainee, a linked visitor and
a slot three days ahead."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from core.db import session, utcnow
from core.principals import SYSTEM


def link(visitor_id: int, detainee_id: int, status: str = "approved") -> int:
    from plugins.visits.models import Relation

    rel = Relation(
        visitor_id=visitor_id,
        detainee_id=detainee_id,
        relationship_kind="parent",
        status=status,
        decided_at=utcnow() if status != "pending" else None,
    )
    session().add(rel)
    session().flush()
    return rel.id


def make_slot(est: Any, *, days: float = 3, capacity: int = 5, kind: str = "ordinary") -> Any:
    from plugins.visits import services

    start = (utcnow() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    return services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), capacity, kind)


@pytest.fixture
def world(app: Any, factories: Any) -> SimpleNamespace:
    with app.app_context():
        est = factories.establishment("EST-A")
        other = factories.establishment("EST-B")
        det = factories.detainee("EST-A", legal_status="pretrial")
        visitor = factories.visitor(full_name="Fatima Benali")
        stranger = factories.visitor(full_name="Autre Famille")
        link(visitor.id, det.id)
        slot = make_slot(est)
        other_slot = make_slot(other)
        session().commit()
        return SimpleNamespace(
            est_id=est.id,
            other_id=other.id,
            rn=det.registration_number,
            det_id=det.id,
            birth=det.birth_date,
            visitor=visitor,
            stranger=stranger,
            slot_id=slot.id,
            other_slot_id=other_slot.id,
        )
