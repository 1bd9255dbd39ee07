"""outbox retries: next_attempt_at, failed_at

Revision ID: 0005_outbox_retries
Revises: 0004_audit_sealer
Create Date: 2026-12-01 23:50:00
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0005_outbox_retries"
down_revision = "0004_audit_sealer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failed_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("core_outbox", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_attempt_at")
