"""form submissions: the one-time tokens of web forms that move money or book

Revision ID: 0009_form_submissions
Revises: 0008_establishment_city_ar
Create Date: 2026-12-02 01:30:00
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0009_form_submissions"
down_revision = "0008_establishment_city_ar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_form_submissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("result_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_core_form_submissions_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_form_submissions")),
        sa.UniqueConstraint(
            "user_id", "token", name=op.f("uq_core_form_submissions_user_id_token")
        ),
    )
    with op.batch_alter_table("core_form_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_core_form_submissions_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("core_form_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_form_submissions_created_at"))
    op.drop_table("core_form_submissions")
