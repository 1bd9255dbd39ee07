"""detainees: an index on (establishment_id, id), so that a search scoped to some establishments
reads their detainees in id order beside a name key's postings (a merge join), instead of
filtering the whole table

Revision ID: 0011_detainee_est_id_index
Revises: 0010_principal_stamps
Create Date: 2026-12-02 09:00:00
"""

from alembic import op


revision = "0011_detainee_est_id_index"
down_revision = "0010_principal_stamps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_detainees", schema=None) as batch_op:
        batch_op.create_index(
            "ix_core_detainees_establishment_id_id", ["establishment_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("core_detainees", schema=None) as batch_op:
        batch_op.drop_index("ix_core_detainees_establishment_id_id")
