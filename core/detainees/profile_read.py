"""A detainee's profile record: the detainee, its establishment and placement history read
by one statement sent by Core and made into the session's instances (:mod:`core.row_loading`).

Through the ORM (``select(Detainee)`` with ``joinedload(Detainee.placements)``, four
entities) the same statement cost the profile page 1.8 million instructions; the rows made
into instances here, a third of that. The instances are the ones the ORM would have given:
persistent in the request's session, every column loaded and committed, the establishment and
placements set as an eager load sets them; any other relationship loads lazily on first use.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from core.db import built_once
from core.db import session as db_session
from core.detainees.models import Detainee, Placement
from core.establishments.models import Establishment
from core.row_loading import RowEntity, set_committed_value
from core.scoping import read_columns


@functools.cache
def _profile_entities() -> tuple[RowEntity, RowEntity, RowEntity, RowEntity]:
    """The detainee, its establishment, its placements and theirs, as one statement's
    columns (:func:`_profile_read`)."""
    return (
        RowEntity(Detainee),
        RowEntity(Establishment),
        RowEntity(Placement),
        RowEntity(Establishment, _placement_establishment()),
    )


@functools.cache
def _placement_establishment() -> Any:
    return Establishment.__table__.alias("placement_establishment")


@built_once
def _profile_read() -> Any:
    """The statement the ORM sent for ``select(Detainee)`` with its establishment and its
    placements (each with its establishment) joined, sent by Core."""
    det, est, placement, where = _profile_entities()
    detainees, placements = Detainee.__table__, Placement.__table__
    held_in = _placement_establishment()
    joined = (
        detainees.join(est.columns[0].table, est.columns[0] == detainees.c.establishment_id)
        .outerjoin(placements, placements.c.detainee_id == detainees.c.id)
        .outerjoin(held_in, held_in.c.id == placements.c.establishment_id)
    )
    return (
        select(*det.columns, *est.columns, *placement.columns, *where.columns)
        .select_from(joined)
        .where(detainees.c.registration_number == bindparam("rn"))
        .order_by(placements.c.started_at, placements.c.id)
    )


def with_placements_read(rn: str) -> Detainee | None:
    """The detainee of ``rn`` with its establishment and placement history, read by one
    statement sent by Core and made into the session's instances
    (:mod:`core.row_loading`): what ``joinedload`` gave for a third of the cost. A detainee
    the session already holds is read again through the ORM (its loaded state wins)."""
    sess = db_session()
    rows = read_columns(_profile_read(), {"rn": rn}).all()
    if not rows:
        return None
    det_of, est_of, placement_of, where_of = _profile_entities()
    at_est = det_of.width
    at_placement = at_est + est_of.width
    at_where = at_placement + placement_of.width
    det, new = det_of.instance(sess, rows[0], 0)
    if not new:
        stmt = (
            select(Detainee)
            .where(Detainee.registration_number == bindparam("rn"))
            .options(joinedload(Detainee.placements))
        )
        return sess.scalars(stmt, {"rn": rn}).unique().one_or_none()  # type: ignore[no-any-return]
    set_committed_value(det, "establishment", est_of.instance(sess, rows[0], at_est)[0])
    placements = []
    for row in rows:
        placement, new = placement_of.instance(sess, row, at_placement)
        if placement is None:
            continue
        if new:
            set_committed_value(
                placement, "establishment", where_of.instance(sess, row, at_where)[0]
            )
            set_committed_value(placement, "detainee", det)
        placements.append(placement)
    set_committed_value(det, "placements", placements)
    return det  # type: ignore[no-any-return]


__all__ = ["with_placements_read"]
