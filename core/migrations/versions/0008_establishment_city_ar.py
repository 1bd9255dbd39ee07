"""establishments: city_ar (the city's name in Arabic, shown on Arabic pages)

Revision ID: 0008_establishment_city_ar
Revises: 0007_visitor_national_id
Create Date: 2026-12-02 01:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_establishment_city_ar"
down_revision = "0007_visitor_national_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_establishments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("city_ar", sa.String(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("core_establishments", schema=None) as batch_op:
        batch_op.drop_column("city_ar")
