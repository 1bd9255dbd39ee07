"""visits: one live booking per detainee and slot (a partial unique index)

Revision ID: 0003_visits_live_booking_unique
Revises: 0002_visits_status_checks
Create Date: 2026-12-02 00:00:00.000000

Two relatives booking the same detainee into the same slot at the same moment both passed the
service's read-then-insert check; the database now refuses the second live booking
(``confirmed`` or ``checked_in``). Cancelled and finished bookings do not count, nor do walk-ins
(a family turning up at the gate is let in by the officer even if another family booked the
same detainee into that session).
"""

import sqlalchemy as sa
from alembic import op


revision = "0003_visits_live_booking_unique"
down_revision = "0002_visits_status_checks"
branch_labels = None
depends_on = None

LIVE_BOOKING = "status IN ('confirmed', 'checked_in') AND NOT walk_in"


def upgrade() -> None:
    with op.batch_alter_table("visits_bookings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_visits_bookings_live_slot_detainee",
            ["slot_id", "detainee_id"],
            unique=True,
            postgresql_where=sa.text(LIVE_BOOKING),
            sqlite_where=sa.text(LIVE_BOOKING),
        )


def downgrade() -> None:
    with op.batch_alter_table("visits_bookings", schema=None) as batch_op:
        batch_op.drop_index("uq_visits_bookings_live_slot_detainee")
