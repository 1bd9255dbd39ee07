"""visits: bans by national id; indexes for the office's queue of link requests

Revision ID: 0005_visits_ban_by_national_id
Revises: 0004_visits_live_relation_unique
Create Date: 2026-12-02 01:20:00.000000

A ban now names the banned person's national identity card number, so it bars every visitor
account with that number and the companions named with it (issue 10 point 4); existing bans
take the number of the account they were made on. The link-request queue pages one status in
date order and counts each account's rejected requests (issue 10 point 2).
"""

import sqlalchemy as sa
from alembic import op


revision = "0005_visits_ban_by_national_id"
down_revision = "0004_visits_live_relation_unique"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits_bans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("national_id", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_visits_bans_national_id"), ["national_id"])
    op.execute(
        "UPDATE visits_bans SET national_id = (SELECT core_users.national_id FROM core_users"
        " WHERE core_users.id = visits_bans.visitor_id)"
    )
    with op.batch_alter_table("visits_relations", schema=None) as batch_op:
        batch_op.create_index("ix_visits_relations_status_created", ["status", "created_at"])
        batch_op.create_index("ix_visits_relations_visitor_status", ["visitor_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("visits_relations", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_relations_visitor_status")
        batch_op.drop_index("ix_visits_relations_status_created")
    with op.batch_alter_table("visits_bans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_bans_national_id"))
        batch_op.drop_column("national_id")
