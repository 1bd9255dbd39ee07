"""Shared helpers of the health tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.audit.services import pending_events
from core.db import session

CONSULTATION = {
    "reason": "Toux persistante",
    "notes": "Toux depuis trois semaines, sueurs nocturnes",
    "diagnosis": "Suspicion de tuberculose pulmonaire",
    "vitals": {"temperature": "38.2", "pulse": 96},
}


def world(app: Any, factories: Any) -> dict[str, Any]:
    """A detainee at EST-A; doctor, nurse, head doctor at EST-A; a doctor at EST-B; others."""
    with app.app_context():
        factories.establishment("EST-A")
        factories.establishment("EST-B")
        det = factories.detainee("EST-A")
        return {
            "rn": det.registration_number,
            "detainee_id": det.id,
            "doctor": factories.user("doctor", ("EST-A",)),
            "nurse": factories.user("nurse", ("EST-A",)),
            "head": factories.user(["doctor", "head_doctor"], ("EST-A",)),
            "other_doctor": factories.user("doctor", ("EST-B",)),
            "other_nurse": factories.user("nurse", ("EST-B",)),
        }


def audit_actions(app: Any, object_id: str) -> list[str]:
    """The actions written to the trail for ``object_id`` (committed ones)."""
    from core.audit.models import AuditEvent

    with app.app_context():
        return list(
            session().scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_id == object_id)
                .order_by(AuditEvent.id)
            )
        )


__all__ = ["CONSULTATION", "audit_actions", "pending_events", "world"]
