"""complaints: escalation to the central level; referral of an appeal; new timeline kinds

Revision ID: 0002_complaints_escalation
Revises: 0001_complaints
Create Date: 2026-12-02 05:40:00.000000

The CHECK constraint on ``complaints_entries.kind`` is written by hand (autogenerate does not
compare them); on SQLite the table is rebuilt (batch mode).
"""

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0002_complaints_escalation"
down_revision = "0001_complaints"
branch_labels = None
depends_on = None

OLD_KINDS = ("answer", "note", "status", "reroute", "assign", "appeal", "reminder", "escalation")
NEW_KINDS = (*OLD_KINDS, "central_escalation", "referral")
CK = "ck_complaints_entries_kind"


def _kinds(values: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{v}'" for v in values))


def upgrade() -> None:
    with op.batch_alter_table("complaints_complaints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("central_escalated_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("complaints_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CK), type_="check")
        batch_op.create_check_constraint(op.f(CK), _kinds(NEW_KINDS))


def downgrade() -> None:
    with op.batch_alter_table("complaints_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CK), type_="check")
        batch_op.create_check_constraint(op.f(CK), _kinds(OLD_KINDS))
    with op.batch_alter_table("complaints_complaints", schema=None) as batch_op:
        batch_op.drop_column("central_escalated_at")
