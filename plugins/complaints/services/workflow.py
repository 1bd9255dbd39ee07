"""The complaint state machine: the ONLY place that says which status may follow which, and
the one function (:func:`change_status`) that changes a complaint's status.

    received ─► acknowledged ─► in_review ─► answered ─► closed (founded / partly / unfounded)
        │            │              │            │
        │            │              │            └─► appealed ─► appeal_review ─► answered ─► closed
        └────────────┴──────────────┴─► inadmissible (with a reason) ─► appealed
    any open status ─► withdrawn (by its author, or staff on the detainee's word)

An answer may come at once from received or acknowledged. A complaint is appealed once, within
``COMPLAINTS_APPEAL_DAYS`` days after its answer (or its inadmissibility).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict
from core.principals import Principal

from ..models import Complaint, Entry, EntryKind, Status

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.received: frozenset({S.acknowledged, S.in_review, S.answered, S.inadmissible, S.withdrawn}),
    S.acknowledged: frozenset({S.in_review, S.answered, S.inadmissible, S.withdrawn}),
    S.in_review: frozenset({S.answered, S.inadmissible, S.withdrawn}),
    S.answered: frozenset({S.closed, S.appealed}),
    S.appealed: frozenset({S.appeal_review, S.answered, S.withdrawn}),
    S.appeal_review: frozenset({S.answered, S.withdrawn}),
    S.inadmissible: frozenset({S.appealed}),
    S.closed: frozenset(),
    S.withdrawn: frozenset(),
}
STATUSES = tuple(TRANSITIONS)
# the complaint waits for the administration (counts as open; its due date runs)
OPEN_STATUSES = (S.received, S.acknowledged, S.in_review, S.appealed, S.appeal_review)
APPEAL_STATUSES = (S.appealed, S.appeal_review)
# the administration decided: the author may appeal within the period
DECIDED_STATUSES = (S.answered, S.inadmissible)
FINAL_STATUSES = (S.closed, S.withdrawn)


def allowed(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def change_status(
    complaint: Complaint,
    target: Status,
    actor: Principal,
    *,
    comment: str = "",
    detail: str = "",
    visible_to_author: bool = False,
    changes: dict[str, Any] | None = None,
) -> Complaint:
    """Move ``complaint`` to ``target`` if the state machine allows it, with a conditional
    ``UPDATE … WHERE status = <seen>`` (two officers acting at once: one wins, the other gets
    409 ``wrong_status``), a timeline entry and an audit event. ``changes`` are other columns
    to set in the same update."""
    current = complaint.status
    if not allowed(current, target):
        raise Conflict(
            _(
                "This complaint cannot go from “%(old)s” to “%(new)s”.",
                old=status_label(current),
                new=status_label(target),
            ),
            code="wrong_status",
        )
    now = utcnow()
    values: dict[str, Any] = {"status": target, "updated_at": now, **(changes or {})}
    done = db_session().execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_("Someone else changed this complaint: reload it."), code="wrong_status")
    for key, value in values.items():
        setattr(complaint, key, value)
    add_entry(
        complaint,
        EntryKind.status,
        actor,
        body=comment,
        from_status=current.value,
        to_status=target.value,
        detail=detail,
        visible_to_author=visible_to_author,
    )
    audit.record(
        f"complaints.{target.value}",
        "complaints_complaint",
        complaint.reference,
        establishment_id=complaint.establishment_id,
        summary={"status": [current.value, target.value], **({"detail": detail} if detail else {})},
        actor=actor,
    )
    return complaint


def add_entry(
    complaint: Complaint,
    kind: EntryKind,
    actor: Principal,
    *,
    body: str = "",
    from_status: str = "",
    to_status: str = "",
    detail: str = "",
    visible_to_author: bool = False,
) -> Entry:
    entry = Entry(
        complaint_id=complaint.id,
        kind=kind,
        body=body,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
        visible_to_author=visible_to_author,
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "") or "",
        created_at=utcnow(),
    )
    db_session().add(entry)
    complaint.entries.append(entry)
    db_session().flush()
    return entry


def status_label(status: Any) -> str:
    from .labels import STATUS_LABELS

    return str(STATUS_LABELS.get(Status(status), status))
