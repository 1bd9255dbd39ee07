"""one family account per national identity card: core_users.visitor_national_id (unique)

Revision ID: 0007_visitor_national_id
Revises: 0006_sign_in_counters
Create Date: 2026-12-02 01:30:00

A visitor account's national id is copied into a unique column (staff accounts leave it
empty), so two registrations with one number cannot both succeed, even racing (issue 10
point 4). Existing accounts: the oldest visitor account of each number takes it; a later one
that shared the number keeps it in ``national_id`` only (bans still match it there).
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_visitor_national_id"
down_revision = "0006_sign_in_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_national_id", sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_core_users_visitor_national_id"), ["visitor_national_id"]
        )
    op.execute(
        "UPDATE core_users SET visitor_national_id = national_id"
        " WHERE national_id IS NOT NULL"
        " AND id = (SELECT MIN(u2.id) FROM core_users u2"
        " JOIN core_user_roles r2 ON r2.user_id = u2.id AND r2.role_code = 'visitor'"
        " WHERE u2.national_id = core_users.national_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_core_users_visitor_national_id"), type_="unique")
        batch_op.drop_column("visitor_national_id")
