"""Every rule of the visits module (Ziara). Pages, API, CLI and hooks all call these functions.

Services take the acting user, check permissions and establishment scope, validate, change rows
through :func:`core.db.session`, audit every change and never commit.

Capacity and weekly quotas are enforced by the database itself: a place is taken with
``UPDATE visits_slots SET booked = booked + :n WHERE id = :id AND booked + :n <= capacity``
and a quota unit with ``UPDATE visits_quota_counters SET used = used + 1 WHERE … AND used <
:quota``; a row count of zero means "full". Both are exact under concurrency on SQLite (every
transaction is ``BEGIN IMMEDIATE``) and PostgreSQL (the row lock of the UPDATE, then the
condition re-checked on the committed row).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee, LegalStatus
from core.detainees.services import get_detainee
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import User
from core.identity.services import has_permission, require
from core.notifications.services import enqueue
from core.scoping import ensure_in_scope, establishment_ids, scope

from .models import (
    SLOT_KINDS,
    Ban,
    BlockedDate,
    Booking,
    Companion,
    QuotaCounter,
    Relation,
    SessionTemplate,
    Slot,
    VisitRules,
)

TZ = ZoneInfo("Africa/Casablanca")
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
REFERENCE_LENGTH = 8
QR_PREFIX = "IDMAJ-VISIT:"
PLACES_PER_BOOKING = 1  # a place is one visiting table: one family, whatever its size
CHECK_IN_EARLY = dt.timedelta(hours=2)
NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

# --------------------------------------------------------------------------------------------
# The booking state machine: the ONLY place that says which status may follow which.
# --------------------------------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    "confirmed": frozenset({"cancelled", "checked_in", "no_show", "visitor_refused"}),
    "checked_in": frozenset({"completed", "visitor_refused", "detainee_refused", "ended_early"}),
    "cancelled": frozenset(),
    "no_show": frozenset(),
    "completed": frozenset(),
    "visitor_refused": frozenset(),
    "detainee_refused": frozenset(),
    "ended_early": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
ACTIVE_STATUSES = ("confirmed", "checked_in")
OUTCOMES = ("completed", "visitor_refused", "detainee_refused", "ended_early")
REASON_REQUIRED = frozenset({"visitor_refused", "detainee_refused", "ended_early", "cancelled"})

STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "checked_in": _l("Checked in"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
    "completed": _l("Completed"),
    "visitor_refused": _l("Visitor refused entry"),
    "detainee_refused": _l("Detainee refused the visit"),
    "ended_early": _l("Ended early by staff"),
}
RELATION_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
RELATIONSHIPS = {
    "spouse": _l("Spouse"),
    "parent": _l("Parent"),
    "child": _l("Son or daughter"),
    "sibling": _l("Brother or sister"),
    "grandparent": _l("Grandparent"),
    "grandchild": _l("Grandchild"),
    "other_relative": _l("Other relative"),
}
# words families and their apps use for a relationship, mapped to the codes above
RELATIONSHIP_SYNONYMS = {
    "mother": "parent",
    "father": "parent",
    "mere": "parent",
    "mère": "parent",
    "pere": "parent",
    "père": "parent",
    "wife": "spouse",
    "husband": "spouse",
    "epouse": "spouse",
    "épouse": "spouse",
    "epoux": "spouse",
    "époux": "spouse",
    "son": "child",
    "daughter": "child",
    "fils": "child",
    "fille": "child",
    "brother": "sibling",
    "sister": "sibling",
    "frere": "sibling",
    "frère": "sibling",
    "soeur": "sibling",
    "sœur": "sibling",
    "grandmother": "grandparent",
    "grandfather": "grandparent",
    "grandson": "grandchild",
    "granddaughter": "grandchild",
    "uncle": "other_relative",
    "aunt": "other_relative",
    "nephew": "other_relative",
    "niece": "other_relative",
}


def relationship_code(value: Any) -> str | None:
    """The relationship code for a code or a common word ("mother" → "parent"), else None."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower().replace("-", "_").replace(" ", "_")
    if word in RELATIONSHIPS:
        return word
    return RELATIONSHIP_SYNONYMS.get(word)


KIND_LABELS = {"ordinary": _l("Ordinary visit"), "supervised": _l("Supervised (closed) visit")}
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)

DEFAULT_RULES: dict[str, Any] = {
    "max_adults": 3,
    "max_children": 2,
    "adult_age": 18,
    "window_open_days": 14,
    "window_close_hours": 24,
    "cancel_deadline_hours": 12,
    "quota_pretrial": 2,
    "quota_convicted": 1,
}
RULE_LIMITS: dict[str, tuple[int, int]] = {
    "max_adults": (1, 10),
    "max_children": (0, 10),
    "adult_age": (12, 21),
    "window_open_days": (1, 90),
    "window_close_hours": (0, 240),
    "cancel_deadline_hours": (0, 240),
    "quota_pretrial": (0, 14),
    "quota_convicted": (0, 14),
}
INFO_FIELDS = (
    "address",
    "visiting_days_ar",
    "visiting_days_fr",
    "conditions_ar",
    "conditions_fr",
    "documents_ar",
    "documents_fr",
    "items_ar",
    "items_fr",
)


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def relationship_label(code: str) -> str:
    return str(RELATIONSHIPS.get(code, code))


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TZ).date()


def local_moment(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)


def week_start(moment: dt.datetime) -> dt.date:
    day = local_date(moment)
    return day - dt.timedelta(days=day.weekday())


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _dialect() -> str:
    return db_session().get_bind().dialect.name


def _insert(model: Any) -> Any:
    return (pg_insert if _dialect() == "postgresql" else sqlite_insert)(model)


def _fail(message: Any, code: str, fields: Mapping[str, Any] | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields=fields)


def _parse_date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _int(value: Any, field: str, errors: dict[str, str], lo: int, hi: int) -> int | None:
    try:
        number = int(value)
        if isinstance(value, bool) or str(value).strip() != str(number):
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return None
    if not lo <= number <= hi:
        errors[field] = _("Enter a number from %(lo)d to %(hi)d.", lo=lo, hi=hi)
        return None
    return number


def _staff(actor: User | None, code: str, establishment_id: int) -> None:
    require(actor, code)
    ensure_in_scope(actor, establishment_id)


def establishment_by_code(code: str, actor: User | None = None) -> Establishment:
    est = db_session().scalar(
        select(Establishment).where(Establishment.code == (code or "").strip().upper())
    )
    if est is None or (actor is not None and not _sees(actor, est.id)):
        raise NotFound(_("No establishment with this code."), code="establishment_not_found")
    return est


def _sees(actor: User, establishment_id: int) -> bool:
    ids = establishment_ids(actor)
    return ids is None or establishment_id in ids


def staff_establishments(actor: User) -> list[Establishment]:
    stmt = scope(select(Establishment), Establishment.id, actor).order_by(Establishment.code)
    return list(db_session().scalars(stmt))


# --------------------------------------------------------------------------------------------
# Notifications (in the recipient's language)
# --------------------------------------------------------------------------------------------


def _notify(user: User | None, kind: str, subject: str, body: str = "") -> None:
    if user is None:
        return
    enqueue(kind=kind, subject=subject, body=body, user=user)


def _in_locale(user: User | None) -> Any:
    return force_locale((user.locale if user is not None else None) or "ar")


def _slot_when(slot: Slot) -> str:
    start = slot.starts_at.astimezone(TZ)
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
                name=booking.detainee.full_name,
                when=_slot_when(booking.slot),
                place=booking.slot.establishment.name_fr,
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
                reason=str(reason),
            ),
        )


# --------------------------------------------------------------------------------------------
# Rules and public information
# --------------------------------------------------------------------------------------------


def get_rules(establishment_id: int) -> VisitRules:
    """The rules of an establishment (defaults, not yet saved, when none were set)."""
    rules = db_session().scalar(
        select(VisitRules).where(VisitRules.establishment_id == establishment_id)
    )
    if rules is None:
        rules = VisitRules(establishment_id=establishment_id, **DEFAULT_RULES)
        for name in INFO_FIELDS:
            setattr(rules, name, "")
    return rules


def update_rules(actor: User | None, establishment: Establishment, data: Mapping[str, Any]) -> Any:
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, (lo, hi) in RULE_LIMITS.items():
        if name in data:
            value = _int(data[name], name, errors, lo, hi)
            if value is not None:
                clean[name] = value
    for name in INFO_FIELDS:
        if name in data:
            value = str(data[name] or "").strip()
            limit = 300 if name == "address" else 4000
            if len(value) > limit:
                errors[name] = _("This text is too long.")
            clean[name] = value
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    rules = get_rules(establishment.id)
    if rules.id is None:
        db_session().add(rules)
    changes = {k: [getattr(rules, k), v] for k, v in clean.items() if getattr(rules, k) != v}
    for key, value in clean.items():
        setattr(rules, key, value)
    db_session().flush()
    audit.record(
        "visits.rules.update",
        "visits_rules",
        establishment.code,
        establishment_id=establishment.id,
        summary={k: v for k, v in changes.items() if k in RULE_LIMITS}
        | {"info_changed": sorted(k for k in changes if k in INFO_FIELDS)},
        actor=actor,
    )
    return rules


def public_info(code: str) -> tuple[Establishment, VisitRules, list[SessionTemplate]]:
    est = establishment_by_code(code)
    if not est.active:
        raise NotFound(_("No establishment with this code."), code="establishment_not_found")
    templates = list(
        db_session().scalars(
            select(SessionTemplate)
            .where(SessionTemplate.establishment_id == est.id, SessionTemplate.active.is_(True))
            .order_by(SessionTemplate.weekday, SessionTemplate.start_time)
        )
    )
    return est, get_rules(est.id), templates


def public_establishments() -> list[Establishment]:
    return list(
        db_session().scalars(
            select(Establishment).where(Establishment.active.is_(True)).order_by(Establishment.code)
        )
    )


# --------------------------------------------------------------------------------------------
# Session templates and slots
# --------------------------------------------------------------------------------------------


def add_template(
    actor: User | None, establishment: Establishment, data: Mapping[str, Any]
) -> SessionTemplate:
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    weekday = _int(data.get("weekday"), "weekday", errors, 0, 6)
    start = str(data.get("start_time") or "").strip()
    end = str(data.get("end_time") or "").strip()
    if not TIME_RE.match(start):
        errors["start_time"] = _("Enter a time as HH:MM.")
    if not TIME_RE.match(end):
        errors["end_time"] = _("Enter a time as HH:MM.")
    elif TIME_RE.match(start) and end <= start:
        errors["end_time"] = _("The end must come after the start.")
    capacity = _int(data.get("capacity", 0), "capacity", errors, 0, 1000)
    supervised = _int(
        data.get("capacity_supervised", 0) or 0, "capacity_supervised", errors, 0, 1000
    )
    if capacity == 0 and supervised == 0:
        errors["capacity"] = _("Give at least one place.")
    valid_from = _parse_date(data.get("valid_from"), "valid_from", errors)
    valid_to = _parse_date(data.get("valid_to"), "valid_to", errors)
    if valid_from is None and "valid_from" not in errors:
        valid_from = local_date(utcnow())
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = _("The end must come after the start.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    tpl = SessionTemplate(
        establishment_id=establishment.id,
        weekday=weekday,
        start_time=start,
        end_time=end,
        capacity=capacity,
        capacity_supervised=supervised,
        valid_from=valid_from,
        valid_to=valid_to,
        active=True,
    )
    db_session().add(tpl)
    db_session().flush()
    audit.record(
        "visits.template.create",
        "visits_template",
        tpl.id,
        establishment_id=establishment.id,
        summary={
            "weekday": weekday,
            "start": start,
            "end": end,
            "capacity": capacity,
            "capacity_supervised": supervised,
        },
        actor=actor,
    )
    return tpl


def deactivate_template(actor: User | None, template_id: int) -> SessionTemplate:
    tpl = db_session().get(SessionTemplate, template_id)
    if tpl is None:
        raise NotFound(_("This session does not exist."))
    if actor is not None:
        _staff(actor, "visits.manage", tpl.establishment_id)
    tpl.active = False
    audit.record(
        "visits.template.deactivate",
        "visits_template",
        tpl.id,
        establishment_id=tpl.establishment_id,
        actor=actor,
    )
    return tpl


def templates_of(establishment_id: int) -> list[SessionTemplate]:
    return list(
        db_session().scalars(
            select(SessionTemplate)
            .where(SessionTemplate.establishment_id == establishment_id)
            .order_by(
                SessionTemplate.active.desc(), SessionTemplate.weekday, SessionTemplate.start_time
            )
        )
    )


def blocked_days(establishment_id: int, start: dt.date, end: dt.date) -> set[dt.date]:
    return set(
        db_session().scalars(
            select(BlockedDate.day).where(
                BlockedDate.establishment_id == establishment_id,
                BlockedDate.day >= start,
                BlockedDate.day <= end,
            )
        )
    )


def generate_slots(
    actor: User | None, establishment: Establishment, start: dt.date, days: int
) -> int:
    """Create the slots of the active templates from ``start`` for ``days`` days (idempotent;
    blocked dates are skipped). Returns how many slots were created."""
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    if not 1 <= days <= 120:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"days": _("Enter a number from %(lo)d to %(hi)d.", lo=1, hi=120)},
        )
    sess = db_session()
    end = start + dt.timedelta(days=days - 1)
    blocked = blocked_days(establishment.id, start, end)
    templates = [t for t in templates_of(establishment.id) if t.active]
    existing = {
        (tid, kind, starts)
        for tid, kind, starts in sess.execute(
            select(Slot.template_id, Slot.kind, Slot.starts_at).where(
                Slot.establishment_id == establishment.id,
                Slot.template_id.is_not(None),
                Slot.starts_at >= local_moment(start, "00:00"),
                Slot.starts_at < local_moment(end + dt.timedelta(days=1), "00:00"),
            )
        )
    }
    made = 0
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day in blocked:
            continue
        for tpl in templates:
            if tpl.weekday != day.weekday() or day < tpl.valid_from:
                continue
            if tpl.valid_to is not None and day > tpl.valid_to:
                continue
            starts, ends = local_moment(day, tpl.start_time), local_moment(day, tpl.end_time)
            for kind, capacity in (
                ("ordinary", tpl.capacity),
                ("supervised", tpl.capacity_supervised),
            ):
                if capacity <= 0 or (tpl.id, kind, starts) in existing:
                    continue
                sess.add(
                    Slot(
                        establishment_id=establishment.id,
                        template_id=tpl.id,
                        kind=kind,
                        starts_at=starts,
                        ends_at=ends,
                        capacity=capacity,
                        booked=0,
                        status="open",
                    )
                )
                made += 1
    sess.flush()
    if made:
        audit.record(
            "visits.slots.generate",
            "visits_slots",
            establishment.code,
            establishment_id=establishment.id,
            summary={"from": start.isoformat(), "days": days, "created": made},
            actor=actor,
        )
    return made


def create_slot(
    actor: User | None,
    establishment: Establishment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    kind: str = "ordinary",
) -> Slot:
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    if starts_at.tzinfo is None:
        errors["starts_at"] = _("Enter a date and time with its offset (ISO 8601).")
    if ends_at.tzinfo is None:
        errors["ends_at"] = _("Enter a date and time with its offset (ISO 8601).")
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = _("The end must come after the start.")
    if not errors and starts_at <= utcnow():
        errors["starts_at"] = _("Choose a time in the future.")
    if not 1 <= capacity <= 1000:
        errors["capacity"] = _("Enter a number from %(lo)d to %(hi)d.", lo=1, hi=1000)
    if kind not in SLOT_KINDS:
        errors["kind"] = _("Choose one of the allowed values.")
    if not errors and local_date(starts_at) in blocked_days(
        establishment.id, local_date(starts_at), local_date(starts_at)
    ):
        errors["starts_at"] = _("There are no visits on this date.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    slot = Slot(
        establishment_id=establishment.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        booked=0,
        status="open",
    )
    db_session().add(slot)
    db_session().flush()
    audit.record(
        "visits.slot.create",
        "visits_slot",
        slot.id,
        establishment_id=establishment.id,
        summary={"starts_at": starts_at.isoformat(), "capacity": capacity, "kind": kind},
        actor=actor,
    )
    return slot


def get_slot(slot_id: int) -> Slot:
    slot = db_session().get(Slot, slot_id)
    if slot is None:
        raise NotFound(_("This visiting time does not exist."), code="slot_not_found")
    return slot


def list_slots(
    establishment_id: int | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    only_open: bool = False,
    kind: str | None = None,
) -> list[Slot]:
    stmt = select(Slot).order_by(Slot.starts_at, Slot.kind, Slot.id)
    if establishment_id is not None:
        stmt = stmt.where(Slot.establishment_id == establishment_id)
    if start is not None:
        stmt = stmt.where(Slot.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Slot.starts_at < end)
    if only_open:
        stmt = stmt.where(Slot.status == "open")
    if kind:
        stmt = stmt.where(Slot.kind == kind)
    return list(db_session().scalars(stmt))


def cancel_slot(actor: User | None, slot: Slot, reason: str) -> int:
    """Cancel a session: its bookings are cancelled and the families told why."""
    if actor is not None:
        _staff(actor, "visits.manage", slot.establishment_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"reason": _("Give a reason.")},
        )
    if slot.status == "cancelled":
        raise Conflict(_("This session is already cancelled."), code="already_cancelled")
    slot.status = "cancelled"
    slot.cancel_reason = reason[:300]
    count = _cancel_bookings(
        select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed"),
        actor,
        reason,
    )
    audit.record(
        "visits.slot.cancel",
        "visits_slot",
        slot.id,
        establishment_id=slot.establishment_id,
        summary={"reason": reason, "bookings_cancelled": count},
        actor=actor,
    )
    return count


def block_date(actor: User | None, establishment: Establishment, day: Any, reason: str) -> int:
    """Block a date: no slots are generated, existing ones are cancelled (families notified)."""
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    parsed = _parse_date(day, "day", errors)
    reason = (reason or "").strip()
    if parsed is None and "day" not in errors:
        errors["day"] = _("This field is required.")
    if not reason:
        errors["reason"] = _("Give a reason.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert parsed is not None
    sess = db_session()
    exists = sess.scalar(
        select(BlockedDate).where(
            BlockedDate.establishment_id == establishment.id, BlockedDate.day == parsed
        )
    )
    if exists is not None:
        raise Conflict(
            _("This date is already blocked."),
            code="already_blocked",
            fields={"day": _("This date is already blocked.")},
        )
    sess.add(BlockedDate(establishment_id=establishment.id, day=parsed, reason=reason[:300]))
    sess.flush()
    cancelled = 0
    for slot in list_slots(
        establishment.id,
        local_moment(parsed, "00:00"),
        local_moment(parsed + dt.timedelta(days=1), "00:00"),
        only_open=True,
    ):
        slot.status = "cancelled"
        slot.cancel_reason = reason[:300]
        cancelled += _cancel_bookings(
            select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed"),
            actor,
            reason,
        )
    audit.record(
        "visits.date.block",
        "visits_blocked_date",
        parsed.isoformat(),
        establishment_id=establishment.id,
        summary={"reason": reason, "bookings_cancelled": cancelled},
        actor=actor,
    )
    return cancelled


def blocked_dates_of(establishment_id: int) -> list[BlockedDate]:
    return list(
        db_session().scalars(
            select(BlockedDate)
            .where(
                BlockedDate.establishment_id == establishment_id,
                BlockedDate.day >= local_date(utcnow()) - dt.timedelta(days=7),
            )
            .order_by(BlockedDate.day)
        )
    )


# --------------------------------------------------------------------------------------------
# Relations (visitor ↔ detainee)
# --------------------------------------------------------------------------------------------


def request_relation(
    visitor: User,
    registration_number: str,
    relationship: str,
    birth_date: Any = None,
    *,
    birth_date_required: bool = False,
) -> Relation:
    """A family member asks to be linked to a detainee. A wrong registration number, a
    released detainee or a birth date that does not match all give the same field error, so
    nothing is revealed about other detainees."""
    require(visitor, "visits.book")
    errors: dict[str, str] = {}
    code = relationship_code(relationship)
    if code is None:
        errors["relationship"] = _("Choose one of the allowed values.")
    else:
        relationship = code
    parsed_birth = _parse_date(birth_date, "detainee_birth_date", errors)
    if parsed_birth is None and birth_date_required and "detainee_birth_date" not in errors:
        errors["detainee_birth_date"] = _("This field is required.")
    rn = (registration_number or "").strip()
    if not rn:
        errors["detainee"] = _("This field is required.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    no_match = _("No detainee matches this registration number and birth date.")
    try:
        det = get_detainee(rn, None)
    except NotFound:
        det = None
    if (
        det is None
        or det.is_released
        or (parsed_birth is not None and det.birth_date != parsed_birth)
    ):
        fields = {"detainee": no_match}
        if parsed_birth is not None:
            fields["detainee_birth_date"] = no_match
        raise ValidationFailed(no_match, code="detainee_not_matched", fields=fields)
    existing = db_session().scalar(
        select(Relation).where(
            Relation.visitor_id == visitor.id,
            Relation.detainee_id == det.id,
            Relation.status.in_(("pending", "approved")),
        )
    )
    if existing is not None:
        raise Conflict(
            _("You have already asked to be linked to this detainee."),
            code="relation_exists",
            fields={"detainee": _("You have already asked to be linked to this detainee.")},
        )
    rel = Relation(
        visitor_id=visitor.id,
        detainee_id=det.id,
        relationship_kind=relationship,
        status="pending",
    )
    db_session().add(rel)
    db_session().flush()
    audit.record(
        "visits.relation.request",
        "visits_relation",
        rel.id,
        establishment_id=det.establishment_id,
        summary={"detainee": det.registration_number, "relationship": relationship},
        actor=visitor,
    )
    return rel


def get_relation(actor: User, relation_id: int) -> Relation:
    rel = db_session().get(Relation, relation_id)
    if rel is None:
        raise NotFound(_("This request does not exist."), code="relation_not_found")
    if rel.visitor_id == actor.id:
        return rel
    require(actor, "visits.manage")
    ensure_in_scope(actor, rel.detainee.establishment_id)
    return rel


def decide_relation(actor: User, relation_id: int, approve: bool, reason: str = "") -> Relation:
    rel = db_session().get(Relation, relation_id)
    if rel is None:
        raise NotFound(_("This request does not exist."), code="relation_not_found")
    _staff(actor, "visits.manage", rel.detainee.establishment_id)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Give a reason.")}
        )
    if rel.status != "pending":
        raise Conflict(_("This request was already decided."), code="already_decided")
    rel.status = "approved" if approve else "rejected"
    rel.reason = reason[:300]
    rel.decided_by_id = actor.id
    rel.decided_at = utcnow()
    db_session().flush()
    audit.record(
        f"visits.relation.{'approve' if approve else 'reject'}",
        "visits_relation",
        rel.id,
        establishment_id=rel.detainee.establishment_id,
        summary={"status": ["pending", rel.status], "reason": reason},
        actor=actor,
    )
    with _in_locale(rel.visitor):
        if approve:
            _notify(
                rel.visitor,
                "visits.relation.approved",
                _(
                    "Your link to %(name)s is approved: you can book visits.",
                    name=rel.detainee.full_name,
                ),
            )
        else:
            _notify(
                rel.visitor,
                "visits.relation.rejected",
                _(
                    "Your request to be linked to %(name)s was rejected.",
                    name=rel.detainee.full_name,
                ),
                _("Reason: %(reason)s", reason=reason),
            )
    return rel


def visitor_relations(visitor: User) -> list[Relation]:
    return list(
        db_session().scalars(
            select(Relation).where(Relation.visitor_id == visitor.id).order_by(Relation.id.desc())
        )
    )


def approved_relation(visitor_id: int, detainee_id: int) -> Relation | None:
    return db_session().scalar(
        select(Relation).where(
            Relation.visitor_id == visitor_id,
            Relation.detainee_id == detainee_id,
            Relation.status == "approved",
        )
    )


def pending_relations(actor: User, status: str = "pending") -> list[Relation]:
    require(actor, "visits.manage")
    stmt = (
        select(Relation)
        .join(Detainee, Detainee.id == Relation.detainee_id)
        .where(Relation.status == status)
        .order_by(Relation.created_at)
        .limit(200)
    )
    return list(db_session().scalars(scope(stmt, Detainee.establishment_id, actor)))


def relations_of_detainee(detainee: Detainee) -> list[Relation]:
    return list(
        db_session().scalars(
            select(Relation).where(Relation.detainee_id == detainee.id).order_by(Relation.id)
        )
    )


# --------------------------------------------------------------------------------------------
# Bans
# --------------------------------------------------------------------------------------------


def find_visitor(national_id_or_username: str) -> User | None:
    key = (national_id_or_username or "").strip()
    if not key:
        return None
    user = db_session().scalar(
        select(User).where(or_(User.national_id == key.upper(), User.username == key))
    )
    return user if user is not None and user.is_visitor else None


def active_ban(visitor_id: int, establishment_id: int, day: dt.date) -> Ban | None:
    return db_session().scalar(
        select(Ban).where(
            Ban.visitor_id == visitor_id,
            Ban.establishment_id == establishment_id,
            Ban.lifted_at.is_(None),
            or_(Ban.ends_on.is_(None), Ban.ends_on >= day),
        )
    )


def ban_visitor(
    actor: User | None,
    visitor: User | None,
    establishment: Establishment,
    reason: str,
    ends_on: Any = None,
) -> Ban:
    """Ban a visitor from an establishment; their future bookings there are cancelled."""
    if actor is not None:
        _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    if visitor is None or not visitor.is_visitor:
        errors["visitor"] = _("No family account with this national identity card number.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Give a reason.")
    elif len(reason) > 300:
        errors["reason"] = _("This text is too long.")
    end = _parse_date(ends_on, "ends_on", errors)
    if end is not None and end < local_date(utcnow()):
        errors["ends_on"] = _("Choose a date from today on.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert visitor is not None
    ban = Ban(
        visitor_id=visitor.id,
        establishment_id=establishment.id,
        reason=reason,
        ends_on=end,
        created_by_id=actor.id if actor is not None else None,
    )
    db_session().add(ban)
    db_session().flush()
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.visitor_id == visitor.id,
            Booking.establishment_id == establishment.id,
            Booking.status == "confirmed",
            Slot.starts_at > utcnow(),
        )
    )
    if end is not None:
        stmt = stmt.where(Slot.starts_at < local_moment(end + dt.timedelta(days=1), "00:00"))
    count = _cancel_bookings(stmt, actor, _l("Visitor banned"))
    audit.record(
        "visits.ban.create",
        "visits_ban",
        ban.id,
        establishment_id=establishment.id,
        summary={
            "visitor": visitor.username,
            "reason": reason,
            "ends_on": end.isoformat() if end else None,
            "bookings_cancelled": count,
        },
        actor=actor,
    )
    return ban


def lift_ban(actor: User, ban_id: int) -> Ban:
    ban = db_session().get(Ban, ban_id)
    if ban is None:
        raise NotFound(_("This ban does not exist."))
    _staff(actor, "visits.manage", ban.establishment_id)
    if ban.lifted_at is not None:
        raise Conflict(_("This ban was already lifted."), code="already_lifted")
    ban.lifted_at = utcnow()
    audit.record(
        "visits.ban.lift", "visits_ban", ban.id, establishment_id=ban.establishment_id, actor=actor
    )
    return ban


def bans_of(actor: User) -> list[Ban]:
    require(actor, "visits.manage")
    stmt = (
        select(Ban)
        .where(
            Ban.lifted_at.is_(None), or_(Ban.ends_on.is_(None), Ban.ends_on >= local_date(utcnow()))
        )
        .order_by(Ban.created_at.desc())
        .limit(200)
    )
    return list(db_session().scalars(scope(stmt, Ban.establishment_id, actor)))


# --------------------------------------------------------------------------------------------
# Booking
# --------------------------------------------------------------------------------------------


@dataclass
class CompanionIn:
    full_name: str
    national_id: str = ""
    birth_date: dt.date | None = None
    is_adult: bool | None = None


@dataclass
class Party:
    adults: int
    children: int
    companions: list[CompanionIn] = field(default_factory=list)


def new_reference() -> str:
    sess = db_session()
    while True:
        ref = "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))
        if sess.scalar(select(Booking.id).where(Booking.reference == ref)) is None:
            return ref


def normalise_reference(value: str) -> str:
    """A typed reference or the QR code's text → the reference (case and spaces ignored)."""
    raw = (value or "").strip()
    if raw.upper().startswith(QR_PREFIX):
        raw = raw[len(QR_PREFIX) :]
    return re.sub(r"[\s-]", "", raw).upper()[:20]


def qr_text(booking: Booking) -> str:
    return f"{QR_PREFIX}{booking.reference}"


def quota_for(detainee: Detainee, rules: VisitRules) -> int:
    if detainee.legal_status == LegalStatus.pretrial:
        return int(rules.quota_pretrial)
    return int(rules.quota_convicted)


def _check_party(
    companions: Sequence[CompanionIn], extra_children: int, rules: VisitRules, day: dt.date
) -> Party:
    errors: dict[str, str] = {}
    adults, children = 1, max(0, int(extra_children or 0))
    for i, comp in enumerate(companions):
        name = (comp.full_name or "").strip()
        if not name:
            errors[f"companions.{i}.full_name"] = _("This field is required.")
        elif len(name) > 200:
            errors[f"companions.{i}.full_name"] = _("This text is too long.")
        comp.full_name = name
        if comp.is_adult is None:
            if comp.birth_date is None:
                errors[f"companions.{i}.birth_date"] = _("This field is required.")
                continue
            if comp.birth_date > day:
                errors[f"companions.{i}.birth_date"] = _("Enter a date in the past.")
                continue
            comp.is_adult = age_on(comp.birth_date, day) >= rules.adult_age
        comp.national_id = (comp.national_id or "").strip().upper()
        if comp.is_adult:
            adults += 1
            if not NATIONAL_ID_RE.match(comp.national_id):
                errors[f"companions.{i}.national_id"] = _(
                    "Enter the national identity card number, e.g. BE123456."
                )
        else:
            children += 1
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    if adults > rules.max_adults or children > rules.max_children:
        raise _fail(
            _(
                "Too many visitors: at most %(adults)d adults and %(children)d children per visit.",
                adults=rules.max_adults,
                children=rules.max_children,
            ),
            "too_many_visitors",
            {"companions": _("Too many visitors.")},
        )
    return Party(adults, children, list(companions))


def _take_place(slot: Slot, places: int = PLACES_PER_BOOKING) -> None:
    """Take places in a slot, or raise 409 ``slot_full`` — exact under concurrency."""
    result = db_session().execute(
        text(
            "UPDATE visits_slots SET booked = booked + :n "
            "WHERE id = :id AND status = 'open' AND booked + :n <= capacity"
        ),
        {"n": places, "id": slot.id},
    )
    if result.rowcount != 1:
        raise Conflict(_("This visiting time is full."), code="slot_full")
    db_session().expire(slot, ["booked"])


def _release_place(slot_id: int, places: int) -> None:
    db_session().execute(
        text("UPDATE visits_slots SET booked = booked - :n WHERE id = :id AND booked >= :n"),
        {"n": places, "id": slot_id},
    )
    sess = db_session()
    cached = sess.identity_map.get(sess.identity_key(Slot, slot_id))
    if cached is not None:
        sess.expire(cached, ["booked"])


def _take_quota(detainee: Detainee, week: dt.date, quota: int) -> None:
    """Count one visit against the detainee's weekly quota, or raise 422 ``quota_reached``."""
    sess = db_session()
    sess.execute(
        _insert(QuotaCounter)
        .values(detainee_id=detainee.id, week_start=week, used=0)
        .on_conflict_do_nothing(index_elements=["detainee_id", "week_start"])
    )
    result = sess.execute(
        text(
            "UPDATE visits_quota_counters SET used = used + 1 "
            "WHERE detainee_id = :d AND week_start = :w AND used < :q"
        ),
        {"d": detainee.id, "w": week, "q": quota},
    )
    if result.rowcount != 1:
        raise _fail(
            _("This detainee has no visits left that week (%(n)d per week).", n=quota),
            "quota_reached",
            {"slot_id": _("No visits left that week.")},
        )


def _release_quota(detainee_id: int, week: dt.date) -> None:
    db_session().execute(
        text(
            "UPDATE visits_quota_counters SET used = used - 1 "
            "WHERE detainee_id = :d AND week_start = :w AND used > 0"
        ),
        {"d": detainee_id, "w": week},
    )


def _window_error(slot: Slot, rules: VisitRules, now: dt.datetime) -> DomainError | None:
    if slot.starts_at > now + dt.timedelta(days=rules.window_open_days):
        return _fail(
            _(
                "Booking for this time is not open yet (%(n)d days ahead).",
                n=rules.window_open_days,
            ),
            "window_not_open",
            {"slot_id": _("Booking is not open yet.")},
        )
    if slot.starts_at < now + dt.timedelta(hours=rules.window_close_hours):
        return _fail(
            _("Booking for this time is closed (%(n)d hours before).", n=rules.window_close_hours),
            "window_closed",
            {"slot_id": _("Booking is closed.")},
        )
    return None


def _resolve_detainee(registration_number: str) -> Detainee:
    try:
        return get_detainee((registration_number or "").strip(), None)
    except NotFound:
        raise _fail(
            _("You are not linked to this detainee."),
            "not_linked",
            {"detainee": _("You are not linked to this detainee.")},
        ) from None


def book(
    visitor: User,
    slot_id: Any,
    registration_number: str,
    companions: Sequence[CompanionIn] = (),
    *,
    children: int = 0,
    now: dt.datetime | None = None,
) -> Booking:
    """A family member books a visit. Raises 422 for a broken rule, 409 ``slot_full``."""
    require(visitor, "visits.book")
    now = now or utcnow()
    det = _resolve_detainee(registration_number)
    if approved_relation(visitor.id, det.id) is None:
        raise _fail(
            _("You are not linked to this detainee."),
            "not_linked",
            {"detainee": _("You are not linked to this detainee.")},
        )
    if det.is_released:
        raise _fail(
            _("This detainee has been released."),
            "detainee_released",
            {"detainee": _("This detainee has been released.")},
        )
    try:
        slot = get_slot(int(slot_id))
    except (TypeError, ValueError, NotFound):
        raise _fail(
            _("This visiting time does not exist."),
            "slot_not_found",
            {"slot_id": _("This visiting time does not exist.")},
        ) from None
    if slot.establishment_id != det.establishment_id:
        raise _fail(
            _("This detainee is not held at this establishment."),
            "detainee_elsewhere",
            {"slot_id": _("This detainee is not held at this establishment.")},
        )
    if slot.status != "open":
        raise _fail(
            _("This visiting time was cancelled."),
            "slot_cancelled",
            {"slot_id": _("This visiting time was cancelled.")},
        )
    slot_day = local_date(slot.starts_at)
    if active_ban(visitor.id, slot.establishment_id, slot_day) is not None:
        raise _fail(
            _("You may not book visits at this establishment at the moment."),
            "visitor_banned",
        )
    rules = get_rules(slot.establishment_id)
    problem = _window_error(slot, rules, now)
    if problem is not None:
        raise problem
    duplicate = db_session().scalar(
        select(Booking.id).where(
            Booking.slot_id == slot.id,
            Booking.detainee_id == det.id,
            Booking.status.in_(ACTIVE_STATUSES),
        )
    )
    if duplicate is not None:
        raise Conflict(
            _("A visit to this detainee is already booked at this time."), code="already_booked"
        )
    party = _check_party(companions, children, rules, slot_day)
    return _create_booking(
        slot=slot,
        detainee=det,
        visitor=visitor,
        visitor_name=visitor.full_name,
        visitor_national_id=visitor.national_id or "",
        party=party,
        rules=rules,
        status="confirmed",
        actor=visitor,
    )


def _create_booking(
    *,
    slot: Slot,
    detainee: Detainee,
    visitor: User | None,
    visitor_name: str,
    visitor_national_id: str,
    party: Party,
    rules: VisitRules,
    status: str,
    actor: User | None,
    walk_in: bool = False,
) -> Booking:
    sess = db_session()
    # the contended row first (a full slot answers 409 fast), then the quota row
    _take_place(slot)
    week = week_start(slot.starts_at)
    _take_quota(detainee, week, quota_for(detainee, rules))
    booking = Booking(
        reference=new_reference(),
        slot_id=slot.id,
        establishment_id=slot.establishment_id,
        detainee_id=detainee.id,
        visitor_id=visitor.id if visitor is not None else None,
        visitor_name=visitor_name[:200],
        visitor_national_id=visitor_national_id[:20],
        adults=party.adults,
        children=party.children,
        places=PLACES_PER_BOOKING,
        week_start=week,
        status=status,
        walk_in=walk_in,
        checked_in_at=utcnow() if status == "checked_in" else None,
    )
    booking.companions = [
        Companion(
            full_name=c.full_name,
            national_id=c.national_id,
            birth_date=c.birth_date,
            is_adult=bool(c.is_adult),
        )
        for c in party.companions
    ]
    sess.add(booking)
    sess.flush()
    audit.record(
        "visits.booking.walk_in" if walk_in else "visits.booking.create",
        "visits_booking",
        booking.reference,
        establishment_id=slot.establishment_id,
        summary={
            "slot": slot.id,
            "detainee": detainee.registration_number,
            "adults": party.adults,
            "children": party.children,
            "status": status,
        },
        actor=actor,
    )
    if visitor is not None and not walk_in:
        _notify_confirmation(booking)
    return booking


def walk_in(
    actor: User,
    slot: Slot,
    registration_number: str,
    visitor_name: str,
    visitor_national_id: str,
    adults: Any = 1,
    children: Any = 0,
    now: dt.datetime | None = None,
) -> Booking:
    """A family turns up at the gate: book (and check in) if the session has places left."""
    _staff(actor, "visits.gate", slot.establishment_id)
    now = now or utcnow()
    errors: dict[str, str] = {}
    name = (visitor_name or "").strip()
    national_id = (visitor_national_id or "").strip().upper()
    if not name:
        errors["visitor_name"] = _("This field is required.")
    if not NATIONAL_ID_RE.match(national_id):
        errors["visitor_national_id"] = _("Enter the national identity card number, e.g. BE123456.")
    rules = get_rules(slot.establishment_id)
    n_adults = _int(adults, "adults", errors, 1, rules.max_adults)
    n_children = _int(children, "children", errors, 0, rules.max_children)
    det = None
    try:
        det = get_detainee((registration_number or "").strip(), None)
    except NotFound:
        errors["detainee"] = _("No detainee with this registration number.")
    if det is not None and (det.is_released or det.establishment_id != slot.establishment_id):
        errors["detainee"] = _("This detainee is not held at this establishment.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert det is not None and n_adults is not None and n_children is not None
    if (
        slot.status != "open"
        or slot.ends_at <= now
        or local_date(slot.starts_at) != local_date(now)
    ):
        raise _fail(
            _("Walk-ins are only taken for today's sessions that have not ended."),
            "walk_in_closed",
        )
    account = find_visitor(national_id)
    if account is not None and active_ban(account.id, slot.establishment_id, local_date(now)):
        raise _fail(
            _("This visitor is banned from this establishment."),
            "visitor_banned",
            {"visitor_national_id": _("This visitor is banned from this establishment.")},
        )
    party = Party(n_adults, n_children, [])
    return _create_booking(
        slot=slot,
        detainee=det,
        visitor=account,
        visitor_name=name,
        visitor_national_id=national_id,
        party=party,
        rules=rules,
        status="checked_in",
        actor=actor,
        walk_in=True,
    )


# --------------------------------------------------------------------------------------------
# Reading bookings
# --------------------------------------------------------------------------------------------


def is_visits_staff(user: User | None) -> bool:
    return has_permission(user, "visits.view")


def get_booking(actor: User, reference: str) -> Booking:
    """A booking for its visitor or for visits staff of its establishment (404 otherwise)."""
    ref = normalise_reference(reference)
    booking = db_session().scalar(select(Booking).where(Booking.reference == ref))
    if booking is None:
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    if booking.visitor_id is not None and booking.visitor_id == actor.id:
        return booking
    if not is_visits_staff(actor):
        if actor.is_staff:
            raise Forbidden(_("You are not allowed to do this."))
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    ensure_in_scope(actor, booking.establishment_id)
    return booking


def my_bookings(visitor: User, *, upcoming: bool | None = None) -> list[Booking]:
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.visitor_id == visitor.id)
    )
    now = utcnow()
    if upcoming is True:
        stmt = stmt.where(Slot.ends_at >= now).order_by(Slot.starts_at)
    elif upcoming is False:
        stmt = stmt.where(Slot.ends_at < now).order_by(Slot.starts_at.desc())
    else:
        stmt = stmt.order_by(Slot.starts_at.desc())
    return list(db_session().scalars(stmt.limit(200)))


def bookable_slots(visitor: User, detainee: Detainee, now: dt.datetime | None = None) -> list[Slot]:
    """The slots the rules let this visitor book for this detainee (open, in the window, at the
    detainee's current establishment, places left, not a blocked/banned day)."""
    now = now or utcnow()
    if detainee.is_released or approved_relation(visitor.id, detainee.id) is None:
        return []
    rules = get_rules(detainee.establishment_id)
    start = now + dt.timedelta(hours=rules.window_close_hours)
    end = now + dt.timedelta(days=rules.window_open_days)
    slots = [
        s
        for s in list_slots(detainee.establishment_id, start, end, only_open=True)
        if s.booked < s.capacity and s.starts_at <= end
    ]
    if active_ban(visitor.id, detainee.establishment_id, local_date(now)) is not None:
        return []
    quota = quota_for(detainee, rules)
    used = dict(
        db_session()
        .execute(
            select(QuotaCounter.week_start, QuotaCounter.used).where(
                QuotaCounter.detainee_id == detainee.id
            )
        )
        .all()
    )
    return [s for s in slots if used.get(week_start(s.starts_at), 0) < quota]


def linked_detainees(visitor: User) -> list[Detainee]:
    return [r.detainee for r in visitor_relations(visitor) if r.status == "approved"]


# --------------------------------------------------------------------------------------------
# Status changes (through TRANSITIONS only)
# --------------------------------------------------------------------------------------------


def _transition(booking: Booking, new: str, actor: User | None, reason: str = "") -> None:
    """Move a booking to ``new`` if TRANSITIONS allows it — atomically: the UPDATE only
    matches the status we read, so two clerks acting at once cannot both win."""
    old = booking.status
    if new not in TRANSITIONS.get(old, frozenset()):
        raise Conflict(
            _(
                "A visit that is %(old)s cannot become %(new)s.",
                old=status_label(old),
                new=status_label(new),
            ),
            code="invalid_transition",
        )
    reason = str(reason or "")
    values: dict[str, Any] = {"status": new, "reason": reason[:300], "updated_at": utcnow()}
    if new == "checked_in":
        values["checked_in_at"] = utcnow()
    result = db_session().execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == old)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This visit was changed meanwhile; reload."), code="stale")
    db_session().expire(booking)
    if new == "cancelled":
        _release_place(booking.slot_id, booking.places)
        _release_quota(booking.detainee_id, booking.week_start)
    audit.record(
        f"visits.booking.{new}",
        "visits_booking",
        booking.reference,
        establishment_id=booking.establishment_id,
        summary={"status": [old, new], "reason": reason},
        actor=actor,
    )


def _cancel_bookings(stmt: Any, actor: User | None, reason: Any) -> int:
    """Cancel (by the establishment) every booking the statement selects; families told why."""
    count = 0
    for booking in list(db_session().scalars(stmt)):
        _transition(booking, "cancelled", actor, reason)
        _notify_cancelled(booking, reason)
        count += 1
    return count


def cancel_booking(
    actor: User, booking: Booking, reason: str = "", now: dt.datetime | None = None
) -> Booking:
    """The visitor cancels before the deadline; visits staff until the visit starts (the
    family is then told why)."""
    now = now or utcnow()
    own = booking.visitor_id == actor.id
    staff = not own
    if staff:
        _staff(actor, "visits.gate", booking.establishment_id)
    if booking.status != "confirmed":
        raise Conflict(
            _(
                "A visit that is %(old)s cannot become %(new)s.",
                old=status_label(booking.status),
                new=status_label("cancelled"),
            ),
            code="invalid_transition",
        )
    slot = booking.slot
    if own:
        rules = get_rules(booking.establishment_id)
        if now > slot.starts_at - dt.timedelta(hours=rules.cancel_deadline_hours):
            raise _fail(
                _(
                    "Visits can be cancelled until %(n)d hours before they start.",
                    n=rules.cancel_deadline_hours,
                ),
                "cancel_deadline_passed",
            )
        _transition(booking, "cancelled", actor, (reason or "").strip() or "cancelled by visitor")
    else:
        if now >= slot.starts_at:
            raise _fail(_("This visit has already started."), "visit_started")
        reason = (reason or "").strip() or str(_("Cancelled by the establishment"))
        _transition(booking, "cancelled", actor, reason)
        _notify_cancelled(booking, reason)
    return booking


def check_in(actor: User, code: str, now: dt.datetime | None = None) -> Booking:
    """Check a visitor in by reference or by the QR code's text."""
    now = now or utcnow()
    require(actor, "visits.gate")
    ref = normalise_reference(code)
    booking = db_session().scalar(select(Booking).where(Booking.reference == ref))
    if booking is None:
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    ensure_in_scope(actor, booking.establishment_id)
    slot = booking.slot
    if booking.status == "confirmed":
        if now < slot.starts_at - CHECK_IN_EARLY:
            raise _fail(_("This visit is not today or has not opened yet."), "too_early")
        if now > slot.ends_at:
            raise _fail(_("This visit is over."), "too_late")
    _transition(booking, "checked_in", actor)
    return booking


def record_outcome(actor: User, booking: Booking, outcome: str, reason: str = "") -> Booking:
    _staff(actor, "visits.gate", booking.establishment_id)
    reason = (reason or "").strip()
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"outcome": _("Choose one of the allowed values.")},
        )
    if outcome in REASON_REQUIRED and not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Give a reason.")}
        )
    _transition(booking, outcome, actor, reason)
    return booking


def mark_no_show(actor: User, booking: Booking, now: dt.datetime | None = None) -> Booking:
    _staff(actor, "visits.gate", booking.establishment_id)
    now = now or utcnow()
    if booking.slot.ends_at > now:
        raise _fail(_("A no-show can only be marked after the session ends."), "session_not_over")
    _transition(booking, "no_show", actor)
    return booking


def mark_slot_no_shows(actor: User, slot: Slot, now: dt.datetime | None = None) -> int:
    _staff(actor, "visits.gate", slot.establishment_id)
    now = now or utcnow()
    if slot.ends_at > now:
        raise _fail(_("A no-show can only be marked after the session ends."), "session_not_over")
    count = 0
    for booking in list(
        db_session().scalars(
            select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
        )
    ):
        _transition(booking, "no_show", actor)
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# The gate: day sheet
# --------------------------------------------------------------------------------------------


@dataclass
class SheetRow:
    slot: Slot
    bookings: list[Booking]


def day_sheet(actor: User, establishment: Establishment, day: dt.date) -> list[SheetRow]:
    _staff(actor, "visits.view", establishment.id)
    slots = list_slots(
        establishment.id,
        local_moment(day, "00:00"),
        local_moment(day + dt.timedelta(days=1), "00:00"),
    )
    if not slots:
        return []
    bookings: dict[int, list[Booking]] = {s.id: [] for s in slots}
    for b in db_session().scalars(
        select(Booking)
        .where(Booking.slot_id.in_(list(bookings)))
        .order_by(Booking.visitor_name, Booking.id)
    ):
        bookings[b.slot_id].append(b)
    return [SheetRow(s, bookings[s.id]) for s in slots]


def day_sheet_csv(rows: Iterable[SheetRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "slot_start",
            "slot_end",
            "kind",
            "reference",
            "status",
            "detainee",
            "registration_number",
            "visitor",
            "visitor_national_id",
            "adults",
            "children",
            "companions",
        ]
    )
    for row in rows:
        start = row.slot.starts_at.astimezone(TZ)
        end = row.slot.ends_at.astimezone(TZ)
        for b in row.bookings:
            writer.writerow(
                [
                    f"{start:%Y-%m-%d %H:%M}",
                    f"{end:%H:%M}",
                    row.slot.kind,
                    b.reference,
                    b.status,
                    b.detainee.full_name,
                    b.detainee.registration_number,
                    _csv_safe(b.visitor_name),
                    b.visitor_national_id,
                    b.adults,
                    b.children,
                    _csv_safe(
                        "; ".join(f"{c.full_name} {c.national_id}".strip() for c in b.companions)
                    ),
                ]
            )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """No spreadsheet formula injection from names typed by the public."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# --------------------------------------------------------------------------------------------
# Life events
# --------------------------------------------------------------------------------------------


def cancel_future_for_detainee(detainee: Detainee, actor: User | None, reason: Any) -> int:
    """Cancel the detainee's future visits (transfer, release); ``reason`` may be lazy, so each
    family reads it in their own language."""
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.detainee_id == detainee.id,
            Booking.status == "confirmed",
            Slot.starts_at > utcnow(),
        )
    )
    return _cancel_bookings(stmt, actor, reason)


# --------------------------------------------------------------------------------------------
# Reminders
# --------------------------------------------------------------------------------------------


def send_reminders(now: dt.datetime | None = None) -> int:
    """Queue a reminder for every confirmed visit of tomorrow (local time), once."""
    now = now or utcnow()
    tomorrow = local_date(now) + dt.timedelta(days=1)
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.status == "confirmed",
            Booking.reminder_sent_at.is_(None),
            Booking.visitor_id.is_not(None),
            Slot.starts_at >= local_moment(tomorrow, "00:00"),
            Slot.starts_at < local_moment(tomorrow + dt.timedelta(days=1), "00:00"),
        )
    )
    count = 0
    for booking in db_session().scalars(stmt):
        with _in_locale(booking.visitor):
            _notify(
                booking.visitor,
                "visits.reminder",
                _("Reminder: visit tomorrow, reference %(ref)s", ref=booking.reference),
                _(
                    "Your visit to %(name)s is tomorrow at %(when)s. Bring your national "
                    "identity card.",
                    name=booking.detainee.full_name,
                    when=_slot_when(booking.slot),
                ),
            )
        booking.reminder_sent_at = now
        count += 1
    db_session().flush()
    return count


# --------------------------------------------------------------------------------------------
# Dashboard and profile
# --------------------------------------------------------------------------------------------


@dataclass
class Stats:
    today_bookings: int
    today_capacity: int
    fill_rate: float  # next 7 days
    no_show_rate: float  # last 30 days
    daily_no_show: list[tuple[dt.date, int]]  # percent per day, last 30 days


def dashboard_stats(user: User, now: dt.datetime | None = None) -> Stats:
    now = now or utcnow()
    sess = db_session()
    today = local_date(now)
    t0 = local_moment(today, "00:00")
    t1 = local_moment(today + dt.timedelta(days=1), "00:00")

    def scoped(stmt: Any, column: Any) -> Any:
        return scope(stmt, column, user)

    today_bookings = (
        sess.scalar(
            scoped(
                select(func.count(Booking.id))
                .join(Slot, Slot.id == Booking.slot_id)
                .where(Slot.starts_at >= t0, Slot.starts_at < t1, Booking.status != "cancelled"),
                Booking.establishment_id,
            )
        )
        or 0
    )
    today_capacity = (
        sess.scalar(
            scoped(
                select(func.coalesce(func.sum(Slot.capacity), 0)).where(
                    Slot.starts_at >= t0, Slot.starts_at < t1, Slot.status == "open"
                ),
                Slot.establishment_id,
            )
        )
        or 0
    )
    week_end = local_moment(today + dt.timedelta(days=7), "00:00")
    booked, capacity = sess.execute(
        scoped(
            select(
                func.coalesce(func.sum(Slot.booked), 0), func.coalesce(func.sum(Slot.capacity), 0)
            ).where(Slot.starts_at >= t0, Slot.starts_at < week_end, Slot.status == "open"),
            Slot.establishment_id,
        )
    ).one()
    start30 = local_moment(today - dt.timedelta(days=29), "00:00")
    rows = sess.execute(
        scoped(
            select(Slot.starts_at, Booking.status)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Slot.starts_at >= start30,
                Slot.starts_at < t1,
                Booking.status.in_(("no_show", "checked_in", *OUTCOMES)),
            ),
            Booking.establishment_id,
        )
    ).all()
    per_day: dict[dt.date, list[int]] = {}
    for starts_at, status in rows:
        counts = per_day.setdefault(local_date(starts_at), [0, 0])
        counts[1] += 1
        if status == "no_show":
            counts[0] += 1
    total = sum(c[1] for c in per_day.values())
    shows = sum(c[0] for c in per_day.values())
    daily = []
    for i in range(30):
        day = today - dt.timedelta(days=29 - i)
        no, all_ = per_day.get(day, [0, 0])
        daily.append((day, round(100 * no / all_) if all_ else 0))
    return Stats(
        today_bookings=int(today_bookings),
        today_capacity=int(today_capacity),
        fill_rate=(int(booked) / int(capacity)) if capacity else 0.0,
        no_show_rate=(shows / total) if total else 0.0,
        daily_no_show=daily,
    )


@dataclass
class DetaineeVisits:
    upcoming: list[Booking]
    history: list[Booking]
    relations: list[Relation]


def detainee_visits(detainee: Detainee) -> DetaineeVisits:
    now = utcnow()
    base = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.detainee_id == detainee.id)
    )
    upcoming = list(
        db_session().scalars(
            base.where(Slot.ends_at >= now, Booking.status.in_(ACTIVE_STATUSES)).order_by(
                Slot.starts_at
            )
        )
    )
    history = list(
        db_session().scalars(
            base.where(or_(Slot.ends_at < now, and_(Booking.status.not_in(ACTIVE_STATUSES))))
            .order_by(Slot.starts_at.desc())
            .limit(20)
        )
    )
    return DetaineeVisits(upcoming, history, relations_of_detainee(detainee))
