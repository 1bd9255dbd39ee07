"""Reading transfers: the queue of one's establishments (filtered, paged in SQL), a detainee's
transfers, the dashboard's figures, the destination's occupancy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select

from core.db import built_once
from core.db import session as db_session
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.establishments.services import population_by_establishment
from core.identity.services import require
from core.paging import fetch_page
from core.principals import Principal
from core.scoping import can_see_establishment, establishment_ids, read_columns
from plugins.transfers.models import ACTIVE_STATUSES, Transfer
from plugins.transfers.services.common import local_day_bounds, today_local, visible


@dataclass(frozen=True)
class Filters:
    status: str = ""  # a status code, "active", or "" for all
    kind: str = ""
    direction: str = ""  # "out" (leaving my establishments), "in" (arriving), ""
    establishment_id: int | None = None
    registration_number: str = ""


def _filtered(user: Principal, f: Filters) -> Any:
    stmt = visible(select(Transfer), user)
    if f.status == "active":
        stmt = stmt.where(Transfer.status.in_(ACTIVE_STATUSES))
    elif f.status:
        stmt = stmt.where(Transfer.status == f.status)
    if f.kind:
        stmt = stmt.where(Transfer.kind == f.kind)
    ids = establishment_ids(user)
    if f.establishment_id is not None:
        ids = frozenset({f.establishment_id})
    if ids is not None:
        allowed = sorted(ids) or [-1]
        if f.direction == "out":
            stmt = stmt.where(Transfer.origin_id.in_(allowed))
        elif f.direction == "in":
            stmt = stmt.where(Transfer.destination_id.in_(allowed))
        elif f.establishment_id is not None:
            stmt = stmt.where(
                or_(Transfer.origin_id.in_(allowed), Transfer.destination_id.in_(allowed))
            )
    if f.registration_number:
        stmt = stmt.join(Detainee, Detainee.id == Transfer.detainee_id).where(
            Detainee.registration_number == f.registration_number
        )
    return stmt


def list_transfers(
    user: Principal, f: Filters, page: int, per_page: int
) -> tuple[list[Transfer], int]:
    """One page of the transfers the user may see, newest first, and how many in all."""
    require(user, "transfers.view")
    stmt = _filtered(user, f)
    return fetch_page(
        db_session(),
        stmt.order_by(None),
        (Transfer.created_at.desc(), Transfer.id.desc()),
        page,
        per_page,
    )


@dataclass(frozen=True)
class TransferLine:
    """What a line of a transfers table shows (``transfers/_row.html``, the same names as
    :class:`Transfer`'s), read as columns: the profile's panel builds no ``Transfer``."""

    id: int
    detainee: Detainee
    origin_id: int
    destination_id: int
    kind: Any
    place: str
    status: Any
    planned_for: Any
    scheduled_for: Any

    @property
    def moves_detainee(self) -> bool:
        return self.destination_id != self.origin_id

    @property
    def origin(self) -> Establishment:
        return _establishment(self.origin_id)

    @property
    def destination(self) -> Establishment:
        return _establishment(self.destination_id)


def _establishment(establishment_id: int) -> Establishment:
    """By primary key (a foreign key: always there), from the session when already in it
    (the detainee's own, the user's)."""
    return db_session().get(Establishment, establishment_id)  # type: ignore[return-value]


def detainee_transfers(det: Detainee, user: Principal, limit: int = 20) -> list[TransferLine]:
    """A detainee's transfers (current first, then the past ones, newest first) — every
    establishment's: the profile shows the whole history of a record one may see. Lines of
    columns (``read_columns``): no ``Transfer`` built for a line, and no ORM layer around a
    read that is, on most profiles, empty."""
    rows = read_columns(_of_detainee(), {"detainee_id": det.id, "limit": limit})
    return [TransferLine(row.id, det, *row[1:]) for row in rows]


@built_once
def _of_detainee() -> Any:
    return (
        select(
            Transfer.id,
            Transfer.origin_id,
            Transfer.destination_id,
            Transfer.kind,
            Transfer.place,
            Transfer.status,
            Transfer.planned_for,
            Transfer.scheduled_for,
        )
        .where(Transfer.detainee_id == bindparam("detainee_id"))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


@dataclass(frozen=True)
class DashboardFigures:
    departures_today: int
    arrivals_today: int
    pending_approvals: int
    pending_acceptances: int
    in_transit: int


def dashboard_figures(user: Principal) -> DashboardFigures:
    """Today's departures (scheduled today or left today from my establishments), arrivals
    (on the way to or arrived today at my establishments), approvals and acceptances waiting."""
    ids = establishment_ids(user)
    allowed = None if ids is None else (sorted(ids) or [-1])
    today = today_local()
    start, end = local_day_bounds(today)
    sess = db_session()

    def count(*where: Any) -> int:
        return int(sess.scalar(select(func.count(Transfer.id)).where(*where)) or 0)

    def mine(column: Any) -> Any:
        return column.in_(allowed) if allowed is not None else column.isnot(None)

    departures = count(
        mine(Transfer.origin_id),
        or_(
            (Transfer.status == "scheduled") & (Transfer.scheduled_for == today),
            (Transfer.departed_at >= start) & (Transfer.departed_at < end),
        ),
    )
    arrivals = count(
        mine(Transfer.destination_id),
        or_(
            Transfer.status == "in_transit",
            (Transfer.completed_at >= start) & (Transfer.completed_at < end),
        ),
    )
    return DashboardFigures(
        departures_today=departures,
        arrivals_today=arrivals,
        pending_approvals=count(mine(Transfer.origin_id), Transfer.status == "requested"),
        pending_acceptances=count(mine(Transfer.destination_id), Transfer.status == "approved"),
        in_transit=count(
            or_(mine(Transfer.origin_id), mine(Transfer.destination_id)),
            Transfer.status == "in_transit",
        ),
    )


@dataclass(frozen=True)
class EstablishmentDay:
    establishment: Any
    departures: int
    arrivals: int
    pending_approvals: int


def dashboard_by_establishment(user: Principal, limit: int = 12) -> list[EstablishmentDay]:
    """Today's departures, arrivals and approvals waiting, per establishment of the user's
    (those with something today), busiest first — three grouped counts."""
    from core.establishments.models import Establishment

    ids = establishment_ids(user)
    allowed = None if ids is None else (sorted(ids) or [-1])
    today = today_local()
    start, end = local_day_bounds(today)
    sess = db_session()

    def grouped(column: Any, *where: Any) -> dict[int, int]:
        stmt = select(column, func.count(Transfer.id)).where(*where).group_by(column)
        if allowed is not None:
            stmt = stmt.where(column.in_(allowed))
        return {int(k): int(n) for k, n in sess.execute(stmt)}

    departures = grouped(
        Transfer.origin_id,
        or_(
            (Transfer.status == "scheduled") & (Transfer.scheduled_for == today),
            (Transfer.departed_at >= start) & (Transfer.departed_at < end),
        ),
    )
    arrivals = grouped(
        Transfer.destination_id,
        or_(
            Transfer.status == "in_transit",
            (Transfer.completed_at >= start) & (Transfer.completed_at < end),
        ),
    )
    approvals = grouped(Transfer.origin_id, Transfer.status == "requested")
    busy = set(departures) | set(arrivals) | set(approvals)
    if not busy:
        return []
    ests = {e.id: e for e in sess.scalars(select(Establishment).where(Establishment.id.in_(busy)))}
    rows = [
        EstablishmentDay(ests[i], departures.get(i, 0), arrivals.get(i, 0), approvals.get(i, 0))
        for i in busy
        if i in ests
    ]
    rows.sort(
        key=lambda r: (-(r.departures + r.arrivals + r.pending_approvals), r.establishment.code)
    )
    return rows[:limit]


@dataclass(frozen=True)
class Occupancy:
    population: int
    capacity: int

    @property
    def percent(self) -> int:
        return round(100 * self.population / self.capacity) if self.capacity else 0


def destination_occupancy(transfer: Transfer, user: Principal) -> Occupancy | None:
    """The destination's occupancy against its capacity (shown to whoever decides there)."""
    if not can_see_establishment(user, transfer.destination_id):
        return None
    pop = population_by_establishment([transfer.destination_id]).get(transfer.destination_id, 0)
    return Occupancy(pop, transfer.destination.capacity)
