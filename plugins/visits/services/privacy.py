"""A family's own data in the visits module: what the download shows, and what closing the
account erases (issue 10 point 3, the hooks ``user_data_export`` and ``user_account_closing``).

Kept on closing, tied to the (anonymised) account id only: the decided link requests (the
office's decisions), the bans, and every visit somebody came to the gate for (checked in,
refused, ended early, completed): those are the establishment's record of who entered or
tried to enter a prison. Erased: pending link requests (withdrawn), future visits
(cancelled, places and quota released), and on every visit nobody came to (cancelled, no
show) the visitor's name, national identity number and the companions' names, identity
numbers and birth dates.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import services as audit
from core.contributions import DataSection
from core.db import session as db_session
from core.db import utcnow
from core.i18n import current_language
from core.i18n import lazy_gettext as _l
from core.identity.models import User

from ..models import Ban, Booking, BookingStatus, Relation, RelationStatus, Slot
from .labels import RELATION_STATUS_LABELS, relationship_label, status_label
from .transitions import _transition

# statuses of a visit nobody came to the gate for: its personal details are erased on closing
NOBODY_CAME = (BookingStatus.cancelled, BookingStatus.no_show)
ERASED_NAME = "—"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_sections(user: User) -> list[DataSection]:
    """The visitor's link requests, bookings (with the companions they named) and bans."""
    sess = db_session()
    relations = list(
        sess.scalars(select(Relation).where(Relation.visitor_id == user.id).order_by(Relation.id))
    )
    relation_rows = []
    for rel in relations:
        approved = rel.status == RelationStatus.approved
        relation_rows.append(
            {
                "id": rel.id,
                "registration_number": rel.detainee.registration_number,
                # the detainee's name only once the office approved the link (security.md)
                "detainee": rel.detainee.full_name if approved else "",
                "relationship": relationship_label(rel.relationship_kind),
                "status": str(RELATION_STATUS_LABELS.get(rel.status, rel.status)),
                "reason": rel.reason,
                "created_at": _iso(rel.created_at),
                "decided_at": _iso(rel.decided_at),
            }
        )
    bookings = list(
        sess.scalars(
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Booking.visitor_id == user.id)
            .order_by(Slot.starts_at)
        )
    )
    booking_rows = [
        {
            "reference": b.reference,
            "starts_at": _iso(b.slot.starts_at),
            "establishment": b.slot.establishment.name(current_language()),
            "detainee": b.detainee.full_name,
            "status": status_label(b.status),
            "visitor_name": b.visitor_name,
            "visitor_national_id": b.visitor_national_id,
            "adults": b.adults,
            "children": b.children,
            "companions": "; ".join(
                " ".join(
                    part
                    for part in (
                        c.full_name,
                        c.national_id,
                        c.birth_date.isoformat() if c.birth_date else "",
                    )
                    if part
                )
                for c in b.companions
            ),
            "created_at": _iso(b.created_at),
            "checked_in_at": _iso(b.checked_in_at),
        }
        for b in bookings
    ]
    bans = list(sess.scalars(select(Ban).where(Ban.visitor_id == user.id).order_by(Ban.id)))
    ban_rows = [
        {
            "establishment": ban.establishment.name(current_language()),
            "created_at": _iso(ban.created_at),
            "ends_on": _iso(ban.ends_on),
            "lifted_at": _iso(ban.lifted_at),
            "reason": ban.reason,
        }
        for ban in bans
    ]
    return [
        DataSection(
            key="visits.relations",
            title=_("Your links to detainees"),
            columns=(
                ("registration_number", _("Registration number")),
                ("detainee", _("Detainee")),
                ("relationship", _("Relationship")),
                ("status", _("Status")),
                ("reason", _("Reason")),
                ("created_at", _("Requested")),
                ("decided_at", _("Decided")),
            ),
            rows=tuple(relation_rows),
            note=_("A detainee's name is shown only once the office approved the link."),
            order=30,
        ),
        DataSection(
            key="visits.bookings",
            title=_("Your visits"),
            columns=(
                ("reference", _("Reference")),
                ("starts_at", _("Starts")),
                ("establishment", _("Establishment")),
                ("detainee", _("Detainee")),
                ("status", _("Status")),
                ("visitor_name", _("Visitor")),
                ("visitor_national_id", _("National identity card number")),
                ("adults", _("Adults")),
                ("children", _("Children")),
                ("companions", _("Companions")),
                ("created_at", _("Booked")),
                ("checked_in_at", _("Checked in")),
            ),
            rows=tuple(booking_rows),
            order=40,
        ),
        DataSection(
            key="visits.bans",
            title=_("Visit bans"),
            columns=(
                ("establishment", _("Establishment")),
                ("created_at", _("Since")),
                ("ends_on", _("Until")),
                ("lifted_at", _("Lifted")),
                ("reason", _("Reason")),
            ),
            rows=tuple(ban_rows),
            order=50,
        ),
    ]


def close_visitor(user: User) -> None:
    """Withdraw pending link requests, cancel future visits and erase the personal details
    of every visit nobody came to (see the module docstring); each change audited."""
    sess = db_session()
    for rel in list(
        sess.scalars(
            select(Relation).where(
                Relation.visitor_id == user.id, Relation.status == RelationStatus.pending
            )
        )
    ):
        audit.record(
            "visits.relation.withdraw",
            "visits_relation",
            rel.id,
            summary={"reason": "account_closed"},
            actor=user,
        )
        sess.delete(rel)
    sess.flush()
    future = list(
        sess.scalars(
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.visitor_id == user.id,
                Booking.status == BookingStatus.confirmed,
                Slot.starts_at > utcnow(),
            )
        )
    )
    reason = str(_l("The family closed their account."))
    for booking in future:
        _transition(booking, BookingStatus.cancelled, user, reason)
    erased = 0
    for booking in sess.scalars(
        select(Booking).where(Booking.visitor_id == user.id, Booking.status.in_(NOBODY_CAME))
    ):
        booking.visitor_name = ERASED_NAME
        booking.visitor_national_id = ""
        for companion in booking.companions:
            companion.full_name = ERASED_NAME
            companion.national_id = ""
            companion.birth_date = None
        erased += 1
    sess.flush()
    if erased:
        audit.record(
            "visits.booking.anonymise",
            "user",
            user.id,
            summary={"bookings": erased},
            actor=user,
        )


__all__ = ["close_visitor", "export_sections"]
