"""funds: CHECK constraints on the enum columns

Revision ID: 0002_funds_enum_checks
Revises: 0001_funds
Create Date: 2026-12-02 09:00:00.000000

The account status, ledger account kind, transaction type and deposit source hold a code from
a closed set; the database now refuses any other value (``ck_<table>_<column>``).

SQLite cannot add a constraint to a table: batch mode copies each table into a new one, drops
the old one and renames the copy. Dropping a table that other rows reference (``RESTRICT``)
fails while foreign keys are enforced, so on SQLite the tables are rebuilt with enforcement off
(``PRAGMA foreign_keys`` only takes effect outside a transaction, so the migrations run before
this one are committed first), the foreign keys are checked with ``PRAGMA foreign_key_check``,
and enforcement is turned back on.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa
import core.db


revision = "0002_funds_enum_checks"
down_revision = "0001_funds"
branch_labels = None
depends_on = None

# table -> column -> the values allowed (the enums of plugins/funds/models.py at this revision)
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "funds_accounts": {"status": ("open", "closed")},
    "funds_ledger_accounts": {
        "kind": (
            "available",
            "savings",
            "cash",
            "bank",
            "canteen",
            "wages",
            "fees",
            "clearing",
            "cash_difference",
        )
    },
    "funds_transactions": {
        "type": (
            "family_deposit",
            "cash_deposit",
            "other_deposit",
            "wage",
            "canteen_purchase",
            "withdrawal",
            "fee",
            "transfer_out",
            "transfer_in",
            "release_payout",
            "reversal",
            "cash_difference",
        ),
        "source": ("", "family", "cash", "other"),
    },
}


@contextmanager
def _tables_rebuilt_safely() -> Iterator[None]:
    """On SQLite: foreign keys off while tables are rebuilt, checked, then on again."""
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the table rebuild: {broken}")
        conn.exec_driver_sql("COMMIT")
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    with _tables_rebuilt_safely():
        for table, columns in CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                for column, values in columns.items():
                    allowed = ", ".join(f"'{v}'" for v in values)
                    batch_op.create_check_constraint(
                        op.f(f"ck_{table}_{column}"), f"{column} IN ({allowed})"
                    )


def downgrade() -> None:
    with _tables_rebuilt_safely():
        for table, columns in CHECKS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                for column in columns:
                    batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
