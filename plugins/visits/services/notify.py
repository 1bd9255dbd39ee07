"""Notifications to families, each in the recipient's language (through the outbox)."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from core.i18n import current_language, local_zone
from core.identity.models import User
from core.notifications.services import enqueue

from ..models import Booking, Slot
from .labels import reason_label


def _notify(user: User | None, kind: str, subject: str, body: str = "") -> None:
    if user is None:
        return
    enqueue(kind=kind, subject=subject, body=body, user=user)


def _in_locale(user: User | None) -> Any:
    return force_locale((user.locale if user is not None else None) or "ar")


def _slot_when(slot: Slot) -> str:
    start = slot.starts_at.astimezone(local_zone())
    return f"{start:%Y-%m-%d %H:%M}"


def _notify_confirmation(booking: Booking) -> None:
    user = booking.visitor
    with _in_locale(user):
        _notify(
            user,
            "visits.confirmation",
            _("Visit booked: %(ref)s", ref=booking.reference),
            _(
                "Your visit to %(name)s is confirmed for %(when)s at %(place)s. Reference %(ref)s.",
                name=booking.detainee.display_name(current_language()),
                when=_slot_when(booking.slot),
                place=booking.slot.establishment.name(current_language()),
                ref=booking.reference,
            ),
        )


def _notify_cancelled(booking: Booking, reason: Any) -> None:
    user = booking.visitor
    with _in_locale(user):
        _notify(
            user,
            "visits.cancelled",
            _("Visit cancelled: %(ref)s", ref=booking.reference),
            _(
                "Your visit of %(when)s (reference %(ref)s) was cancelled by the establishment: "
                "%(reason)s",
                when=_slot_when(booking.slot),
                ref=booking.reference,
                reason=reason_label(str(reason)),
            ),
        )
