"""visits: one pending or approved link per visitor and detainee (a partial unique index)

Revision ID: 0004_visits_live_relation_unique
Revises: 0003_visits_live_booking_unique
Create Date: 2026-12-02 00:10:00.000000

Two simultaneous link requests for the same visitor and detainee both passed the service's
read-then-insert check; the database now refuses the second live one.
"""

import sqlalchemy as sa
from alembic import op


revision = "0004_visits_live_relation_unique"
down_revision = "0003_visits_live_booking_unique"
branch_labels = None
depends_on = None

LIVE_RELATION = "status IN ('pending', 'approved')"


def upgrade() -> None:
    with op.batch_alter_table("visits_relations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_visits_relations_live_visitor_detainee",
            ["visitor_id", "detainee_id"],
            unique=True,
            postgresql_where=sa.text(LIVE_RELATION),
            sqlite_where=sa.text(LIVE_RELATION),
        )


def downgrade() -> None:
    with op.batch_alter_table("visits_relations", schema=None) as batch_op:
        batch_op.drop_index("uq_visits_relations_live_visitor_detainee")
