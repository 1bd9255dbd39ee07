"""visits: the platform's own booking reasons stored as codes, translated when shown

Revision ID: 0008_visits_reason_codes
Revises: 0007_visits_walk_ins_unique
Create Date: 2026-12-02 01:40:00.000000

A visitor's own cancellation was stored as the English words "cancelled by visitor", and an
establishment's as "Cancelled by the establishment" in the staff member's language: both
showed in that language on every page. They become the codes ``cancelled_by_visitor`` and
``cancelled_by_establishment`` (``plugins.visits.services.labels.REASON_LABELS``).
"""

import sqlalchemy as sa
from alembic import op


revision = "0008_visits_reason_codes"
down_revision = "0007_visits_walk_ins_unique"
branch_labels = None
depends_on = None

BY_VISITOR = ("cancelled by visitor",)
BY_ESTABLISHMENT = (
    "Cancelled by the establishment",
    "Annulée par l'établissement",
    "ألغتها المؤسسة",
)


def _recode(old: tuple[str, ...], new: str) -> None:
    bookings = sa.table(
        "visits_bookings", sa.column("reason", sa.String), sa.column("status", sa.String)
    )
    op.execute(
        bookings.update()
        .where(bookings.c.reason.in_(old), bookings.c.status == "cancelled")
        .values(reason=new)
    )


def upgrade() -> None:
    _recode(BY_VISITOR, "cancelled_by_visitor")
    _recode(BY_ESTABLISHMENT, "cancelled_by_establishment")


def downgrade() -> None:
    _recode(("cancelled_by_visitor",), BY_VISITOR[0])
    _recode(("cancelled_by_establishment",), BY_ESTABLISHMENT[0])
