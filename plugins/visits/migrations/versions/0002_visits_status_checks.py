"""visits status checks: the database refuses a status its enum does not have

Revision ID: 0002_visits_status_checks
Revises: 0001_visits
Create Date: 2026-12-01 10:00:00.000000

Alembic's autogenerate does not compare CHECK constraints, so this one is written by hand; the
names are those the metadata's naming convention gives (``ck_<table>_status``). On SQLite each
table is rebuilt (batch mode), with its other constraints and indexes.
"""

from alembic import op


revision = "0002_visits_status_checks"
down_revision = "0001_visits"
branch_labels = None
depends_on = None

STATUSES = {
    "visits_slots": ("open", "cancelled"),
    "visits_relations": ("pending", "approved", "rejected"),
    "visits_bookings": (
        "confirmed",
        "checked_in",
        "cancelled",
        "no_show",
        "completed",
        "visitor_refused",
        "detainee_refused",
        "ended_early",
    ),
}


def upgrade() -> None:
    for table, values in STATUSES.items():
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_status"), f"status IN ({allowed})")


def downgrade() -> None:
    for table in reversed(STATUSES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
