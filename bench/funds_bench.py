"""Funds benchmark (not a test): ``python -m bench.funds_bench [--backend sqlite|postgresql]
[--accounts N] [--postings M] [--reads R] [--deposits D]``.

Builds a database with N detainee accounts and M postings (bulk insert with SQLAlchemy Core on
SQLite, ``COPY`` on PostgreSQL), then times, through the real services:

- balance reads (``services.view_account``: the detainee lookup, scoping and the two stored
  sub-account balances — never a sum over the ledger);
- deposits (``services.deposit`` + commit: lock order, conditional UPDATE of two stored
  balances, one transaction with two postings, receipt counter, audit event);
- for comparison, what summing one account's postings would cost, and a full-ledger sum.

Figures go to stdout; docs/funds.md keeps the latest ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from core.principals import SYSTEM


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _report(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<34} n={len(ms):>5}  median {statistics.median(ms):7.3f} ms  "
        f"p95 {_pct(ms, 0.95):7.3f} ms  max {max(ms):8.3f} ms  "
        f"throughput {len(ms) / (sum(samples) or 1):8.0f}/s"
    )


def _copy(conn: Any, table: str, columns: list[str], rows: Any) -> None:
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bulk(
    conn: Any, kind: str, table: Any, columns: list[str], rows: Any, chunk: int = 50_000
) -> None:
    if kind == "postgresql":
        _copy(conn, table.name, columns, rows)
        return
    batch: list[dict[str, Any]] = []
    stmt = insert(table)
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= chunk:
            conn.execute(stmt, batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)


def build(app: Any, n_accounts: int, n_postings: int, seed: int = 1) -> tuple[int, list[str]]:
    """Bulk-load the ledger; returns (establishment id, registration numbers)."""
    from core.db import get_database
    from core.detainees.models import Detainee
    from plugins.funds.models import Account, LedgerAccount, Posting, Transaction

    rng = random.Random(seed)
    with app.app_context():
        from core.db import session
        from core.testing import Factories

        est_id = Factories(app).establishment("BNC-A").id
        session().commit()
    engine = get_database(app).engine
    kind = engine.dialect.name
    now = dt.datetime.now(dt.UTC)
    stamp = now
    rns = [f"1999-{i:07d}" for i in range(1, n_accounts + 1)]
    n_tx = n_postings // 2
    t0 = time.perf_counter()
    with engine.begin() as conn:
        _bulk(
            conn,
            kind,
            Detainee.__table__,
            [
                "id",
                "registration_number",
                "first_name",
                "last_name",
                "first_name_ar",
                "last_name_ar",
                "birth_date",
                "sex",
                "legal_status",
                "establishment_id",
                "admitted_at",
                "created_at",
                "updated_at",
            ],
            (
                (
                    i,
                    rn,
                    "Bench",
                    f"Person{i}",
                    "",
                    "",
                    dt.date(1990, 1, 1),
                    "M",
                    "convicted",
                    est_id,
                    stamp,
                    stamp,
                    stamp,
                )
                for i, rn in enumerate(rns, start=1_000_000)
            ),
        )
        _bulk(
            conn,
            kind,
            Account.__table__,
            ["id", "detainee_id", "establishment_id", "currency", "status", "opened_at"],
            (
                (i, 1_000_000 + i - 1, est_id, "MAD", "open", stamp)
                for i in range(1, n_accounts + 1)
            ),
        )
        # the transactions: deposits of random accounts, each one posting to the account's
        # "available" sub-account (id = account id) against the establishment's cash
        # (id = n_accounts * 2 + 1); savings sub-accounts are ids n_accounts + account id
        cash_id = n_accounts * 2 + 1
        amounts = [rng.randint(100, 50_000) for _ in range(n_tx)]
        owners = [rng.randint(1, n_accounts) for _ in range(n_tx)]
        balance = [0] * (n_accounts + 1)
        for owner, amount in zip(owners, amounts, strict=True):
            balance[owner] += amount
        _bulk(
            conn,
            kind,
            LedgerAccount.__table__,
            ["id", "account_id", "establishment_id", "kind", "balance", "held"],
            (
                *((i, i, None, "available", balance[i], 0) for i in range(1, n_accounts + 1)),
                *((n_accounts + i, i, None, "savings", 0, 0) for i in range(1, n_accounts + 1)),
                (cash_id, None, est_id, "cash", -sum(amounts), 0),
            ),
        )
        _bulk(
            conn,
            kind,
            Transaction.__table__,
            [
                "id",
                "type",
                "account_id",
                "establishment_id",
                "amount",
                "receipt_number",
                "memo",
                "source",
                "depositor_name",
                "depositor_national_id",
                "batch",
                "actor_username",
                "created_at",
            ],
            (
                (
                    t,
                    "cash_deposit",
                    owners[t - 1],
                    est_id,
                    amounts[t - 1],
                    f"BULK-{t}",
                    "",
                    "cash",
                    "",
                    "",
                    "",
                    "bench",
                    stamp - dt.timedelta(seconds=n_tx - t),
                )
                for t in range(1, n_tx + 1)
            ),
        )
        _bulk(
            conn,
            kind,
            Posting.__table__,
            ["id", "transaction_id", "ledger_account_id", "amount"],
            (
                row
                for t in range(1, n_tx + 1)
                for row in (
                    (2 * t - 1, t, owners[t - 1], amounts[t - 1]),
                    (2 * t, t, cash_id, -amounts[t - 1]),
                )
            ),
        )
        if kind == "postgresql":
            for table in (
                "core_detainees",
                "funds_accounts",
                "funds_ledger_accounts",
                "funds_transactions",
                "funds_postings",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(
        f"loaded {n_accounts:,} accounts, {n_tx:,} transactions, {n_tx * 2:,} postings "
        f"in {time.perf_counter() - t0:.1f} s ({kind})"
    )
    return est_id, rns


def measure(app: Any, rns: list[str], reads: int, deposits: int) -> None:
    from core.db import session
    from core.detainees.services import get_detainee
    from core.testing import Factories
    from plugins.funds import services
    from plugins.funds.models import LedgerAccount, Posting

    rng = random.Random(2)
    with app.app_context():
        accountant = Factories(app).user("accountant", ("BNC-A",), username="bench.accountant")
        director = Factories(app).user("director", ("BNC-A",), username="bench.director")
    samples: list[float] = []
    for _ in range(reads):
        rn = rng.choice(rns)
        with app.app_context():
            start = time.perf_counter()
            view = services.view_account(rn, accountant)
            session().commit()
            samples.append(time.perf_counter() - start)
            assert view.balances.balance >= 0
    _report("balance read (accountant)", samples)
    samples = []
    for _ in range(max(1, reads // 4)):
        rn = rng.choice(rns)
        with app.app_context():
            start = time.perf_counter()
            services.view_account(rn, director)  # + an audited read
            session().commit()
            samples.append(time.perf_counter() - start)
    _report("balance read (director, audited)", samples)
    samples = []
    for _ in range(deposits):
        rn = rng.choice(rns)
        with app.app_context():
            det = get_detainee(rn, accountant)
            start = time.perf_counter()
            services.deposit(det, accountant, amount="25.00", source="cash")
            session().commit()
            samples.append(time.perf_counter() - start)
    _report("deposit (service + commit)", samples)
    samples = []
    for _ in range(max(1, reads // 4)):
        rn = rng.choice(rns)
        with app.app_context():
            det = get_detainee(rn, SYSTEM)
            account = services.account_of(det)
            start = time.perf_counter()
            session().scalar(
                select(func.sum(Posting.amount))
                .join(LedgerAccount, LedgerAccount.id == Posting.ledger_account_id)
                .where(LedgerAccount.account_id == account.id)
            )
            samples.append(time.perf_counter() - start)
            session().rollback()
    _report("(comparison) sum one account's postings", samples)
    with app.app_context():
        start = time.perf_counter()
        session().scalar(select(func.sum(Posting.amount)))
        _report("(comparison) sum the whole ledger", [time.perf_counter() - start])
        start = time.perf_counter()
        problems = services.check_ledger()
        _report("idmaj funds reconcile (check_ledger)", [time.perf_counter() - start])
        assert problems == [], problems[:5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=5_000_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--deposits", type=int, default=500)
    args = parser.parse_args()
    os.environ["IDMAJ_TEST_BACKEND"] = args.backend
    from core.testing import TestDatabase, build_migrated_app

    with tempfile.TemporaryDirectory(prefix="funds-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            app = build_migrated_app(database.url, Path(tmp))
            _est, rns = build(app, args.accounts, args.postings)
            measure(app, rns, args.reads, args.deposits)
            app.extensions["idmaj.db"].dispose()
        finally:
            database.drop()


if __name__ == "__main__":
    main()
