"""The database itself refuses a code outside its closed set (status, kind, type, source)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from core import migrate
from core.db import session
from core.detainees.services import get_detainee
from core.principals import SYSTEM
from plugins.funds import services
from plugins.funds.models import DepositSource, Transaction, TxType
from plugins.funds.tests.helpers import setup

FUNDS_TABLES = ("funds_accounts", "funds_ledger_accounts", "funds_transactions", "funds_postings")

# Transactions are append-only (a trigger refuses UPDATE on PostgreSQL): a bad row is inserted
# as a copy of the deposit with one column changed.
COPY_DEPOSIT = (
    "INSERT INTO funds_transactions (type, account_id, establishment_id, amount, receipt_number,"
    " memo, source, depositor_name, depositor_national_id, batch, actor_username, created_at)"
    " SELECT {type}, account_id, establishment_id, amount, receipt_number || '-copy', memo,"
    " {source}, depositor_name, depositor_national_id, batch, actor_username, created_at"
    " FROM funds_transactions WHERE id = :id"
)


@pytest.mark.parametrize(
    ("constraint", "sql"),
    [
        ("ck_funds_accounts_status", "UPDATE funds_accounts SET status = 'frozen'"),
        ("ck_funds_ledger_accounts_kind", "UPDATE funds_ledger_accounts SET kind = 'piggy_bank'"),
        ("ck_funds_transactions_type", COPY_DEPOSIT.format(type="'gift'", source="source")),
        ("ck_funds_transactions_source", COPY_DEPOSIT.format(type="type", source="'lottery'")),
    ],
)
def test_database_refuses_an_unknown_code(app, factories, constraint, sql):
    rn, _acc = setup(app, factories)
    with app.app_context():
        tx = services.deposit(get_detainee(rn, SYSTEM), SYSTEM, amount="10.00", source="cash")
        session().flush()
        valid = COPY_DEPOSIT.format(type="type", source="source")
        with session().begin_nested():  # the copy itself is accepted
            session().execute(text(valid), {"id": tx.id})
        with pytest.raises(IntegrityError, match=constraint), session().begin_nested():
            session().execute(text(sql), {"id": tx.id})


def test_codes_are_stored_as_before(app, factories):
    """The stored strings did not change: the deposit source, ``""`` for other movements."""
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount="10.00", source="cash")
        services.purchase(det, SYSTEM, amount="4.00")
        session().flush()
        stored = (
            session().execute(text("SELECT type, source FROM funds_transactions ORDER BY id")).all()
        )
        assert [tuple(row) for row in stored] == [
            ("cash_deposit", "cash"),
            ("canteen_purchase", ""),
        ]
        loaded = (
            session()
            .execute(
                select(Transaction.type, Transaction.source)
                .order_by(Transaction.id)
                .execution_options(populate_existing=True)
            )
            .all()
        )
        assert loaded == [
            (TxType.cash_deposit, DepositSource.cash),
            (TxType.canteen_purchase, DepositSource.none),
        ]
        assert loaded[0].source == "cash" and loaded[1].source == ""


def _migrate_funds(app: Any, revision: str, *, down: bool = False) -> None:
    branch = next(b for b in migrate.branches(app) if b.name == "funds")
    with app.extensions["idmaj.db"].engine.connect() as conn:
        run = command.downgrade if down else command.upgrade
        run(migrate.alembic_config(app, branch, conn), revision)
        conn.commit()


def test_constraints_migration_keeps_a_populated_database(tmp_path):
    """Adding the constraints rebuilds the tables on SQLite, whose rows other tables reference:
    the data, the other constraints and foreign key enforcement all survive, both ways."""
    from core import demo
    from core.app import create_app
    from core.testing import TestDatabase, test_config

    database = TestDatabase(tmp_path)
    app = create_app(test_config(database.url, tmp_path))
    engine = app.extensions["idmaj.db"].engine

    def snapshot() -> dict[str, Any]:
        with engine.connect() as conn:
            rows = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in FUNDS_TABLES
            }
            if engine.dialect.name == "sqlite":
                rows["foreign_keys"] = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        checks = inspect(engine).get_check_constraints("funds_transactions")
        rows["checks"] = sorted(c["name"] for c in checks)
        return rows

    try:
        migrate.upgrade(app)
        _migrate_funds(app, "0001_funds", down=True)
        with app.app_context():
            demo.seed(detainees=20, seed_value=7)
            session().commit()
        before = snapshot()
        assert before["funds_postings"] > 0
        assert before["checks"] == ["ck_funds_transactions_amount_positive"]
        migrate.upgrade(app)
        after = snapshot()
        assert after == {
            **before,
            "checks": [
                "ck_funds_transactions_amount_positive",
                "ck_funds_transactions_source",
                "ck_funds_transactions_type",
            ],
        }
        assert migrate.check(app) == []
        with app.app_context():
            assert services.check_ledger() == []
            with pytest.raises(IntegrityError, match="ck_funds_accounts_status"):
                session().execute(text("UPDATE funds_accounts SET status = 'frozen'"))
            session().rollback()
        _migrate_funds(app, "0001_funds", down=True)
        assert snapshot() == before
        migrate.upgrade(app)
        assert snapshot() == after
    finally:
        engine.dispose()
        database.drop()
