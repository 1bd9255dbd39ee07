"""Reading the audit trail: the one search rule of the /audit/ page and of
``GET /api/v1/audit/events``.

Filters (all optional, combined with AND):

- ``action``: that exact action (``user.login`` does not match ``user.login.failed``); a value
  ending with a dot is a family of actions (``detainee.`` matches ``detainee.admit``,
  ``detainee.release``…);
- ``actions`` (the page's filter by words, see ``core.audit.presentation``): any of these
  codes, a code ending with a dot being a family; an empty tuple matches nothing;
- ``object_type`` and ``object_id``: exact;
- ``establishment``: an establishment code (an unknown code matches nothing);
- ``actor``: a username (case-insensitive, as usernames are stored lower-case; ``system`` for
  the platform's own work);
- ``since`` (inclusive) and ``until`` (exclusive): aware moments; :func:`day_start` turns a
  local day of the app's zone into one.

The page is paged in SQL: one ``COUNT`` and one ``LIMIT``/``OFFSET`` query, newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import false, func, or_, select

from core.audit.models import AuditEvent
from core.config import TIMEZONE
from core.db import session as db_session
from core.establishments.models import Establishment

TZ = ZoneInfo(TIMEZONE)  # the days of the filters are the days shown on the pages

EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class EventFilters:
    action: str = ""
    actions: tuple[str, ...] | None = None
    object_type: str = ""
    object_id: str = ""
    establishment: str = ""
    actor: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class EventRow(NamedTuple):
    event: AuditEvent
    establishment: str | None  # the establishment's code


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the app's zone (clamped to the representable range)."""
    try:
        return dt.datetime.combine(day, dt.time(), tzinfo=TZ).astimezone(dt.UTC)
    except OverflowError:
        return EARLIEST if day.year <= 1 else LATEST


def day_after(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (an inclusive end day), in the app's zone."""
    try:
        return day_start(day + dt.timedelta(days=1))
    except OverflowError:
        return LATEST


def to_utc(moment: dt.datetime) -> dt.datetime:
    """An aware moment in UTC, clamped to the representable range (year 1 to 9999)."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return EARLIEST if moment.year <= 1 else LATEST


def _statement(filters: EventFilters):  # type: ignore[no-untyped-def]
    stmt = select(AuditEvent, Establishment.code).outerjoin(
        Establishment, Establishment.id == AuditEvent.establishment_id
    )
    if filters.action:
        if filters.action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actions is not None:
        exact = [a for a in filters.actions if not a.endswith(".")]
        families = [a for a in filters.actions if a.endswith(".")]
        conditions = [AuditEvent.action.in_(exact)] if exact else []
        conditions += [AuditEvent.action.startswith(f, autoescape=True) for f in families]
        stmt = stmt.where(or_(*conditions) if conditions else false())
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.establishment:
        stmt = stmt.where(Establishment.code == filters.establishment.strip().upper())
    if filters.actor:
        stmt = stmt.where(AuditEvent.actor_username == filters.actor.strip().lower())
    if filters.since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= to_utc(filters.since))
    if filters.until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < to_utc(filters.until))
    return stmt


def search_events(filters: EventFilters, page: int, per_page: int) -> tuple[list[EventRow], int]:
    """One page of the events matching ``filters``, newest first, and how many match in all.

    A page past the end is empty (and costs no second query, however large its number).
    """
    stmt = _statement(filters)
    total = db_session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    offset = (max(page, 1) - 1) * per_page
    if offset >= total:
        return [], total
    rows = db_session().execute(
        stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset(offset)
        .limit(per_page)
    )
    return [EventRow(event, code) for event, code in rows], total
