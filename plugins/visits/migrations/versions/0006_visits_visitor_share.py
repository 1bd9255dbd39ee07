"""visits: a per-visitor share of a detainee's weekly quota (issue 10 point 6)

Revision ID: 0006_visits_visitor_share
Revises: 0005_visits_ban_by_national_id
Create Date: 2026-12-02 01:30:00.000000

``visits_rules.max_weekly_per_visitor``: how many of a detainee's weekly visits one family
account may book; empty (NULL, the default) = no per-visitor limit, only the detainee's quota.
"""

import sqlalchemy as sa
from alembic import op


revision = "0006_visits_visitor_share"
down_revision = "0005_visits_ban_by_national_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_weekly_per_visitor", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits_rules", schema=None) as batch_op:
        batch_op.drop_column("max_weekly_per_visitor")
