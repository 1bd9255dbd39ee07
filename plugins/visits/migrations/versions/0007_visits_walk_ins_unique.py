"""visits: walk-ins count in the one-live-booking-per-detainee-and-slot index (issue 10 point 5)

Revision ID: 0007_visits_walk_ins_unique
Revises: 0006_visits_visitor_share
Create Date: 2026-12-02 02:00:00.000000

0003 left walk-ins out of ``uq_visits_bookings_live_slot_detainee``, so a gate officer could
book (and two officers at once could both book) a detainee who already had a live visit in the
same session: a second table for one person, the party limit and the weekly quota bypassed.
The index now covers every live booking. An upgrade over a database that already holds two
live bookings of one detainee in one slot stops and names them: give one of them an outcome
(or cancel it) at the gate, then upgrade again.
"""

import sqlalchemy as sa
from alembic import op


revision = "0007_visits_walk_ins_unique"
down_revision = "0006_visits_visitor_share"
branch_labels = None
depends_on = None

INDEX = "uq_visits_bookings_live_slot_detainee"
LIVE_BOOKING = "status IN ('confirmed', 'checked_in')"
LIVE_BOOKING_BEFORE = "status IN ('confirmed', 'checked_in') AND NOT walk_in"


def upgrade() -> None:
    doubles = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT slot_id, detainee_id, COUNT(*) FROM visits_bookings "
                f"WHERE {LIVE_BOOKING} GROUP BY slot_id, detainee_id HAVING COUNT(*) > 1 "
                "ORDER BY slot_id, detainee_id"
            )
        )
        .all()
    )
    if doubles:
        listed = ", ".join(f"slot {s} / detainee {d} ({n})" for s, d, n in doubles[:20])
        raise RuntimeError(
            "visits 0006: these detainees have more than one live booking (confirmed or "
            f"checked in) in the same slot: {listed}. Give the extra ones an outcome or cancel "
            "them at the gate, then run the upgrade again."
        )
    _replace(LIVE_BOOKING)


def downgrade() -> None:
    _replace(LIVE_BOOKING_BEFORE)


def _replace(where: str) -> None:
    with op.batch_alter_table("visits_bookings", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(
            INDEX,
            ["slot_id", "detainee_id"],
            unique=True,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
