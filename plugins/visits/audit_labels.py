"""How the audit page names the visits module's events (the ``audit_labels`` and
``audit_object_names`` hooks)."""

from __future__ import annotations

from sqlalchemy import select

from core.contributions import AuditLabels
from core.db import session
from core.i18n import current_language
from core.i18n import lazy_gettext as _l

from .services.labels import (
    KIND_LABELS,
    REASON_LABELS,
    RELATION_STATUS_LABELS,
    RELATIONSHIPS,
    STATUS_LABELS,
)

VISITS_AUDIT_LABELS = AuditLabels(
    actions={
        "visits.booking.": _l("Visit status changed"),
        "visits.booking.create": _l("Visit booked"),
        "visits.booking.walk_in": _l("Walk-in visit recorded"),
        "visits.booking.cancelled": _l("Visit cancelled"),
        "visits.booking.checked_in": _l("Visitors checked in"),
        "visits.booking.no_show": _l("Visit marked as a no-show"),
        "visits.booking.completed": _l("Visit completed"),
        "visits.booking.visitor_refused": _l("Visitor refused at the gate"),
        "visits.ban.create": _l("Visitor banned"),
        "visits.ban.lift": _l("Visitor ban lifted"),
        "visits.date.block": _l("Date blocked for visits"),
        "visits.relation.request": _l("Link to a detainee requested"),
        "visits.relation.withdraw": _l("Link request withdrawn (account closed)"),
        "visits.booking.anonymise": _l("Visit details erased (account closed)"),
        "visits.relation.approve": _l("Link to a detainee approved"),
        "visits.relation.reject": _l("Link to a detainee rejected"),
        "visits.rules.update": _l("Visit rules changed"),
        "visits.slot.create": _l("Visiting time created"),
        "visits.slot.cancel": _l("Visiting time cancelled"),
        "visits.slots.generate": _l("Visiting times generated"),
        "visits.template.create": _l("Weekly session created"),
        "visits.template.deactivate": _l("Weekly session withdrawn"),
    },
    object_types={
        "visits_booking": _l("Visit"),
        "visits_ban": _l("Visitor ban"),
        "visits_relation": _l("Link to a detainee"),
        "visits_rules": _l("Visit rules"),
        "visits_slot": _l("Visiting time"),
        "visits_slots": _l("Visiting times"),
        "visits_blocked_date": _l("Blocked date"),
        "visits_template": _l("Weekly session"),
    },
    fields={
        "detainee": _l("Detainee"),
        "relationship": _l("Relationship"),
        "bookings_cancelled": _l("Visits cancelled"),
        "starts_at": _l("Starts at"),
        "days": _l("Days"),
        "created": _l("Created"),
        "visitor": _l("Visitor"),
        "slot": _l("Visiting time"),
        "adults": _l("Adults"),
        "children": _l("Children"),
    },
    values={
        "status": {**STATUS_LABELS, **RELATION_STATUS_LABELS},
        "reason": REASON_LABELS,
        "relationship": RELATIONSHIPS,
        "kind": KIND_LABELS,
    },
)


def booking_names(references: list[str]) -> dict[str, str]:
    """A booking by its reference and the detainee visited, in one query."""
    from core.detainees.models import Detainee

    from .models import Booking

    lang = current_language()
    rows = session().execute(
        select(Booking.reference, Detainee)
        .join(Detainee, Detainee.id == Booking.detainee_id)
        .where(Booking.reference.in_(references))
    )
    return {ref: f"{ref} · {det.display_name(lang)}" for ref, det in rows}
