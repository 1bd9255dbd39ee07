"""sign-in: throttle counters shared by every worker, TOTP second factors, roles requiring one

Revision ID: 0006_sign_in_counters
Revises: 0005_outbox_retries
Create Date: 2026-12-02 01:30:00
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0006_sign_in_counters"
down_revision = "0005_outbox_retries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_second_factors",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_core_second_factors_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_core_second_factors")),
    )
    with op.batch_alter_table("core_roles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "requires_second_factor", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "core_sign_in_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_seconds", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", "window_seconds", name=op.f("pk_core_sign_in_counters")),
    )
    with op.batch_alter_table("core_sign_in_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_core_sign_in_counters_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("core_sign_in_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_sign_in_counters_expires_at"))
    op.drop_table("core_sign_in_counters")
    with op.batch_alter_table("core_roles", schema=None) as batch_op:
        batch_op.drop_column("requires_second_factor")
    op.drop_table("core_second_factors")
