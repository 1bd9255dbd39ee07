"""The demo's background population: establishments filled to the occupancy Moroccan prisons
really run at (near or above capacity), so that occupancy figures, search and paging look like
the country's and not like an empty building.

The few hundred detainees the demo's stories use (accounts, visits, families) are admitted
through the services, audited, by :func:`core.demo.seed`. The tens of thousands around them
are loaded here by bulk inserts (detainee, placement, name search keys), as a migration from
an older register would load them: no audit event and no module hook per row, which would
take minutes. They are searchable, listed and counted like any other detainee.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from core.db import session as db_session
from core.db import utcnow
from core.detainees import names
from core.detainees.models import Counter, Detainee, DetaineeNameKey, LegalStatus, Placement
from core.establishments.models import Establishment

OCCUPANCY = (0.92, 1.38)
"""The range each demo establishment's occupancy is drawn from (Moroccan prisons, 2024-2026:
about 100,000 held for about 70,000 places nationally, some local prisons far above)."""

CHUNK = 2000


def _held(establishment_ids: Sequence[int]) -> dict[int, int]:
    rows = db_session().execute(
        select(Detainee.establishment_id, func.count())
        .where(
            Detainee.establishment_id.in_(establishment_ids),
            Detainee.legal_status != LegalStatus.released,
        )
        .group_by(Detainee.establishment_id)
    )
    return {est_id: int(n) for est_id, n in rows}


def _reserve_numbers(year: int, count: int) -> int:
    """Take ``count`` registration numbers of ``year`` at once; returns the first."""
    from core.detainees.services import next_counter

    first = next_counter(f"regno-{year}")
    if count > 1:
        db_session().execute(
            update(Counter)
            .where(Counter.name == f"regno-{year}")
            .values(value=Counter.value + (count - 1))
        )
    return first


def fill_to_occupancy(
    establishments: Sequence[Establishment],
    rng: random.Random,
    person: Any,
    occupancy: tuple[float, float] = OCCUPANCY,
) -> int:
    """Bring each establishment to an occupancy drawn from ``occupancy`` (of its capacity);
    ``person(rng, establishment)`` makes one person's fields. Returns how many detainees were
    added."""
    held = _held([e.id for e in establishments])
    wanted = {
        e.id: max(0, round(e.capacity * rng.uniform(*occupancy)) - held.get(e.id, 0))
        for e in establishments
    }
    total = sum(wanted.values())
    if not total:
        return 0
    now = utcnow()
    year = now.year
    number = _reserve_numbers(year, total)
    conn = db_session().connection()
    key_cache: dict[tuple[str, str, str, str], set[str]] = {}
    batch: list[tuple[dict[str, Any], int, dt.datetime, tuple[str, str, str, str]]] = []

    def flush() -> None:
        if not batch:
            return
        ids = conn.execute(
            insert(Detainee).returning(Detainee.id, sort_by_parameter_order=True),
            [row for row, _e, _a, _n in batch],
        ).scalars()
        placements, keys = [], []
        for det_id, (_row, est_id, admitted, name_tuple) in zip(ids, batch, strict=True):
            placements.append(
                {
                    "detainee_id": det_id,
                    "establishment_id": est_id,
                    "started_at": admitted,
                    "reason": "admission",
                    "note": "",
                }
            )
            found = key_cache.get(name_tuple)
            if found is None:
                found = key_cache[name_tuple] = {k[:60] for k in names.name_keys(*name_tuple)}
            keys.extend(
                {"detainee_id": det_id, "establishment_id": est_id, "key": k, "weight": 1}
                for k in found
            )
        conn.execute(insert(Placement), placements)
        conn.execute(insert(DetaineeNameKey), keys)
        batch.clear()

    serial = 0
    for est in establishments:
        for _i in range(wanted[est.id]):
            fields = person(rng, est)
            admitted = now - dt.timedelta(
                days=rng.randint(1, 4 * 365), minutes=rng.randint(0, 1440)
            )
            row = {
                "registration_number": f"{year}-{number + serial:06d}",
                "first_name": fields["first_name"],
                "last_name": fields["last_name"],
                "first_name_ar": fields["first_name_ar"],
                "last_name_ar": fields["last_name_ar"],
                "birth_date": dt.date.fromisoformat(str(fields["birth_date"])),
                "sex": fields["sex"],
                # a series of its own, so no demo CIN is held twice
                "national_id": f"DM{700000 + number + serial}",
                "legal_status": fields["legal_status"],
                "establishment_id": est.id,
                "admitted_at": admitted,
                "created_at": admitted,
                "updated_at": admitted,
            }
            serial += 1
            name_tuple = (
                row["first_name"],
                row["last_name"],
                row["first_name_ar"],
                row["last_name_ar"],
            )
            batch.append((row, est.id, admitted, name_tuple))
            if len(batch) >= CHUNK:
                flush()
    flush()
    return total
