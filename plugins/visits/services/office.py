"""The visits office's queue of link requests: paged in SQL, filterable, with flagged accounts.

A family account that sends many link requests cannot hide a real one: the queue has no cap
(every request is on some page, ``LIMIT``/``OFFSET`` in the database), it filters by detainee,
visitor (name or national id), day asked, and flag, and it sorts oldest or newest first. An
account is *flagged* when at least ``VISITS_REJECTED_FLAG_THRESHOLD`` (default 3) of its link
requests were rejected, anywhere: the count is computed in SQL on each query, and shown on the
row (issue 10 point 2).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from core.db import session as db_session
from core.detainees.models import Detainee
from core.identity.models import User
from core.identity.services import require
from core.query_args import query_date
from core.scoping import scope

from ..models import Relation, RelationStatus
from .common import local_moment

DEFAULT_FLAG_THRESHOLD = 3
MAX_FLAG_THRESHOLD = 1_000_000
MAX_FILTER_TEXT = 100
ORDERS = ("oldest", "newest")


def flag_threshold() -> int:
    """How many rejected link requests flag an account: the app's
    ``VISITS_REJECTED_FLAG_THRESHOLD``, else the environment's
    ``IDMAJ_VISITS_REJECTED_FLAG_THRESHOLD``, else 3 (an unreadable value or one below 1
    counts as 3; above a million, as a million)."""
    raw = current_app.config.get("VISITS_REJECTED_FLAG_THRESHOLD") or os.environ.get(
        "IDMAJ_VISITS_REJECTED_FLAG_THRESHOLD"
    )
    try:
        value = int(raw) if raw not in (None, "") else DEFAULT_FLAG_THRESHOLD
    except (TypeError, ValueError):
        return DEFAULT_FLAG_THRESHOLD
    # a number the database compares as an integer on every backend
    return min(value, MAX_FLAG_THRESHOLD) if value >= 1 else DEFAULT_FLAG_THRESHOLD


@dataclass
class QueueFilters:
    """What the office asked for; every field optional."""

    detainee: str = ""
    visitor: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    flagged: bool | None = None
    order: str = "oldest"


@dataclass
class QueueRow:
    relation: Relation
    rejected: int
    flagged: bool


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    threshold: int
    filters: QueueFilters = field(default_factory=QueueFilters)


def clean_text(raw: str | None) -> str:
    """Filter text as typed: control characters (NUL, CR, LF...) become spaces, runs of spaces
    one, at most :data:`MAX_FILTER_TEXT` characters (a NUL would be a 500 on PostgreSQL)."""
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in (raw or ""))
    return " ".join(text.split())[:MAX_FILTER_TEXT]


def parse_filters(args: Mapping[str, str]) -> tuple[QueueFilters, dict[str, str]]:
    """Read ``detainee``, ``visitor``, ``from``, ``to``, ``flagged`` and ``order`` from a query
    string. Unreadable values are left out of the filters and named in the errors (field →
    localised message), for the page's form or the API's 400."""
    errors: dict[str, str] = {}
    filters = QueueFilters(
        detainee=clean_text(args.get("detainee")).upper().replace(" ", ""),
        visitor=clean_text(args.get("visitor")),
    )
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            day = query_date(raw)
        except ValueError:
            errors[name] = _("Enter a date (YYYY-MM-DD) between 1900 and 2999.")
            continue
        if name == "from":
            filters.since = day
        else:
            filters.until = day
    if filters.since and filters.until and filters.since > filters.until:
        errors["to"] = _("Choose a day on or after the first one.")
        filters.until = None
    flagged = (args.get("flagged") or "").strip()
    if flagged in ("1", "yes", "true"):
        filters.flagged = True
    elif flagged in ("0", "no", "false"):
        filters.flagged = False
    elif flagged:
        errors["flagged"] = _("Choose one of the allowed values.")
    order = (args.get("order") or "").strip()
    if order in ORDERS:
        filters.order = order
    elif order:
        errors["order"] = _("Choose one of the allowed values.")
    return filters, errors


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _rejected_counts() -> Select[tuple[int, int]]:
    rejected = aliased(Relation)
    return (
        select(rejected.visitor_id.label("visitor_id"), func.count().label("rejected"))
        .where(rejected.status == RelationStatus.rejected)
        .group_by(rejected.visitor_id)
    )


def link_request_queue(
    actor: User,
    filters: QueueFilters | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
    status: RelationStatus = RelationStatus.pending,
) -> QueuePage:
    """One page of the link requests in ``actor``'s establishments (pending by default)."""
    require(actor, "visits.manage")
    filters = filters or QueueFilters()
    page = max(1, int(page))
    per_page = max(1, min(100, int(per_page)))
    threshold = flag_threshold()
    counts = _rejected_counts().subquery()
    rejected = func.coalesce(counts.c.rejected, 0)
    conditions = [Relation.status == status]
    if filters.detainee:
        conditions.append(Detainee.registration_number == filters.detainee)
    if filters.visitor:
        words = filters.visitor
        conditions.append(
            or_(
                User.national_id == words.upper().replace(" ", ""),
                User.full_name.ilike(_like(words), escape="\\"),
                User.username == words.lower(),
            )
        )
    if filters.since is not None:
        conditions.append(Relation.created_at >= local_moment(filters.since, "00:00"))
    if filters.until is not None:
        conditions.append(
            Relation.created_at < local_moment(filters.until + dt.timedelta(days=1), "00:00")
        )
    if filters.flagged is True:
        conditions.append(rejected >= threshold)
    elif filters.flagged is False:
        conditions.append(rejected < threshold)
    base = (
        select(Relation.id)
        .join(Detainee, Detainee.id == Relation.detainee_id)
        .join(User, User.id == Relation.visitor_id)
        .outerjoin(counts, counts.c.visitor_id == Relation.visitor_id)
        .where(and_(*conditions))
    )
    base = scope(base, Detainee.establishment_id, actor)
    sess = db_session()
    total = sess.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows: list[QueueRow] = []
    offset = (page - 1) * per_page
    if offset < total:
        order = (
            (Relation.created_at.desc(), Relation.id.desc())
            if filters.order == "newest"
            else (Relation.created_at, Relation.id)
        )
        page_stmt = base.add_columns(rejected.label("rejected")).order_by(*order)
        found = sess.execute(page_stmt.offset(offset).limit(per_page)).all()
        by_id = {
            r.id: r
            for r in sess.scalars(select(Relation).where(Relation.id.in_([f[0] for f in found])))
        }
        rows = [
            QueueRow(by_id[rel_id], int(count), int(count) >= threshold)
            for rel_id, count in found
            if rel_id in by_id
        ]
    return QueuePage(rows, total, page, per_page, threshold, filters)


def count_pending(actor: User) -> int:
    """How many link requests wait in ``actor``'s establishments (a ``COUNT``, no rows)."""
    require(actor, "visits.manage")
    stmt = (
        select(func.count())
        .select_from(Relation)
        .join(Detainee, Detainee.id == Relation.detainee_id)
        .where(Relation.status == RelationStatus.pending)
    )
    return db_session().scalar(scope(stmt, Detainee.establishment_id, actor)) or 0


def rejected_requests(visitor_id: int) -> int:
    """How many of this account's link requests were rejected (all establishments)."""
    return (
        db_session().scalar(
            select(func.count())
            .select_from(Relation)
            .where(Relation.visitor_id == visitor_id, Relation.status == RelationStatus.rejected)
        )
        or 0
    )
