"""The visits benchmark (not a test): the booking race and booking throughput at scale.

    python -m bench.visits_bench [--backend postgresql|sqlite] [--attempts 1000] [--places 50]
                                 [--stored 1000000] [--bookings 2000] [--threads 12]

1. **Race**: ``--attempts`` families (each linked to their own detainee) book one slot of
   ``--places`` places at the same moment from ``--threads`` threads, each attempt a full
   transaction through ``services.book`` (its own app context and session). Checks that exactly
   ``--places`` are confirmed and every other attempt is a clean 409 ``slot_full``.
2. **Throughput**: ``--stored`` past bookings are bulk-inserted with SQLAlchemy Core, then
   ``--bookings`` new bookings are made through the service (threads, one transaction each) on
   slots of the next two weeks; reports bookings per second and latency percentiles.

The database is a new PostgreSQL database on ``IDMAJ_TEST_DATABASE_URL`` (dropped at the end),
or a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from core.principals import SYSTEM


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def _bulk_people(app: Any, est_id: int, count: int, prefix: str) -> list[tuple[int, int, str]]:
    """``count`` detainees and visitors, bulk-inserted and linked: (visitor, detainee, rn)."""
    from core.db import session, utcnow
    from core.detainees.models import Detainee
    from core.identity.models import User, UserRole
    from plugins.visits.models import Relation

    now = utcnow()
    series = {"RACE": 9001, "BIG": 9002}[prefix]  # registration numbers are YYYY-NNNNNN
    with app.app_context():
        sess = session()
        sess.execute(
            insert(Detainee),
            [
                {
                    "registration_number": f"{series}-{i:07d}",
                    "first_name": "Bench",
                    "last_name": f"Detainee {i}",
                    "first_name_ar": "",
                    "last_name_ar": "",
                    "birth_date": dt.date(1990, 1, 1),
                    "sex": "M",
                    "legal_status": "pretrial",
                    "establishment_id": est_id,
                    "admitted_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        sess.execute(
            insert(User),
            [
                {
                    "username": f"{prefix.lower()}-family-{i}",
                    "password_hash": "!",
                    "full_name": f"Famille {i}",
                    "national_id": f"BE{i:06d}",
                    "phone": "0600000000",
                    "is_active": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        dets = dict(
            sess.execute(
                select(Detainee.registration_number, Detainee.id).where(
                    Detainee.registration_number.like(f"{series}-%")
                )
            ).all()
        )
        users = dict(
            sess.execute(
                select(User.username, User.id).where(
                    User.username.like(f"{prefix.lower()}-family-%")
                )
            ).all()
        )
        sess.execute(
            insert(UserRole), [{"user_id": uid, "role_code": "visitor"} for uid in users.values()]
        )
        pairs = [
            (users[f"{prefix.lower()}-family-{i}"], dets[f"{series}-{i:07d}"], f"{series}-{i:07d}")
            for i in range(count)
        ]
        sess.execute(
            insert(Relation),
            [
                {
                    "visitor_id": v,
                    "detainee_id": d,
                    "relationship_kind": "parent",
                    "status": "approved",
                    "reason": "",
                    "created_at": now,
                }
                for v, d, _rn in pairs
            ],
        )
        sess.commit()
    return pairs


def _attempt(app: Any, visitor_id: int, slot_id: int, rn: str) -> tuple[str, float]:
    from core.db import session
    from core.errors import DomainError
    from core.identity.models import User
    from plugins.visits import services

    started = time.perf_counter()
    with app.app_context():
        sess = session()
        try:
            services.book(sess.get(User, visitor_id), slot_id, rn)
            sess.commit()
            outcome = "confirmed"
        except DomainError as exc:
            sess.rollback()
            outcome = exc.code
        except Exception as exc:  # reported, never hidden
            sess.rollback()
            outcome = f"ERROR {type(exc).__name__}: {exc}"[:200]
    return outcome, time.perf_counter() - started


def race(app: Any, attempts: int, places: int, threads: int) -> dict[str, Any]:
    from core.db import session, utcnow
    from core.establishments.services import create_establishment
    from plugins.visits import services
    from plugins.visits.models import Slot

    with app.app_context():
        est = create_establishment(
            code="RACE",
            name="Prison race",
            name_ar="سجن",
            kind="local_prison",
            capacity=5000,
            actor=SYSTEM,
        )
        start = (utcnow() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
        slot = services.create_slot(SYSTEM, est, start, start + dt.timedelta(hours=1), places)
        session().commit()
        est_id, slot_id = est.id, slot.id
    pairs = _bulk_people(app, est_id, attempts, "RACE")
    barrier = threading.Barrier(min(threads, attempts))

    def run(pair: tuple[int, int, str]) -> tuple[str, float]:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return _attempt(app, pair[0], slot_id, pair[2])

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(run, pairs))
    elapsed = time.perf_counter() - began
    outcomes: dict[str, int] = {}
    for outcome, _t in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    with app.app_context():
        booked = session().get(Slot, slot_id).booked
    latencies = [t * 1000 for _o, t in results]
    return {
        "attempts": attempts,
        "places": places,
        "threads": threads,
        "outcomes": outcomes,
        "booked": booked,
        "exact": outcomes.get("confirmed") == places == booked
        and outcomes.get("slot_full", 0) == attempts - places,
        "seconds": elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": _percentile(latencies, 95),
    }


def throughput(app: Any, stored: int, bookings: int, threads: int) -> dict[str, Any]:
    from core.db import session, utcnow
    from core.establishments.services import create_establishment
    from plugins.visits import services
    from plugins.visits.models import Booking, Slot

    with app.app_context():
        est = create_establishment(
            code="BIG",
            name="Prison big",
            name_ar="سجن",
            kind="local_prison",
            capacity=9000,
            actor=SYSTEM,
        )
        services.update_rules(SYSTEM, est, {"quota_pretrial": 14, "window_open_days": 30})
        session().commit()
        est_id = est.id
    people = max(200, bookings // 10)
    pairs = _bulk_people(app, est_id, people, "BIG")

    # --- 1. bulk history: past slots of 50 places, all booked ----------------------------------
    seeded = time.perf_counter()
    per_slot = 50
    n_slots = (stored + per_slot - 1) // per_slot
    now = utcnow()
    first = now - dt.timedelta(days=3 * 365)
    with app.app_context():
        sess = session()
        chunk = 5000
        for base in range(0, n_slots, chunk):
            sess.execute(
                insert(Slot),
                [
                    {
                        "establishment_id": est_id,
                        "kind": "ordinary",
                        "starts_at": first + dt.timedelta(minutes=30 * i),
                        "ends_at": first + dt.timedelta(minutes=30 * i + 25),
                        "capacity": per_slot,
                        "booked": per_slot,
                        "status": "open",
                        "cancel_reason": "",
                        "created_at": now,
                    }
                    for i in range(base, min(n_slots, base + chunk))
                ],
            )
        sess.commit()
        slot_ids = list(
            sess.scalars(select(Slot.id).where(Slot.establishment_id == est_id).order_by(Slot.id))
        )
        alphabet = services.REFERENCE_ALPHABET
        statuses = ("completed", "completed", "completed", "no_show", "cancelled")

        def ref(n: int) -> str:
            out = []
            for _ in range(8):
                n, r = divmod(n, len(alphabet))
                out.append(alphabet[r])
            return "".join(out)

        batch = 20000
        for base in range(0, stored, batch):
            rows = []
            for i in range(base, min(stored, base + batch)):
                v, d, _rn = pairs[i % len(pairs)]
                slot_start = first + dt.timedelta(minutes=30 * (i // per_slot))
                rows.append(
                    {
                        "reference": ref(i + 10_000_000),
                        "slot_id": slot_ids[i // per_slot],
                        "establishment_id": est_id,
                        "detainee_id": d,
                        "visitor_id": v,
                        "visitor_name": "Famille",
                        "visitor_national_id": "BE000000",
                        "adults": 1,
                        "children": 0,
                        "places": 1,
                        "week_start": services.week_start(slot_start),
                        "status": statuses[i % len(statuses)],
                        "walk_in": False,
                        "reason": "",
                        "created_at": slot_start - dt.timedelta(days=3),
                        "updated_at": slot_start,
                    }
                )
            sess.execute(insert(Booking), rows)
            sess.commit()
        total = sess.scalar(select(func.count()).select_from(Booking))
    seed_seconds = time.perf_counter() - seeded
    if os.environ.get("IDMAJ_BENCH_ANALYZE", "1") == "1":
        with app.app_context():
            from sqlalchemy import text

            if session().get_bind().dialect.name == "postgresql":
                session().execute(text("ANALYZE"))
                session().commit()

    # --- 2. new bookings through the service ---------------------------------------------------
    with app.app_context():
        est = services.establishment_by_code("BIG")
        start_day = services.local_date(utcnow()) + dt.timedelta(days=2)
        open_slots = []
        for day in range(12):
            for hour in range(8, 18):
                s = services.local_moment(start_day + dt.timedelta(days=day), f"{hour:02d}:00")
                open_slots.append(
                    services.create_slot(SYSTEM, est, s, s + dt.timedelta(minutes=50), 1000).id
                )
        session().commit()
    jobs = [
        (pairs[i % len(pairs)], open_slots[(i * 7 + i // len(pairs)) % len(open_slots)])
        for i in range(bookings)
    ]
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda j: _attempt(app, j[0][0], j[1], j[0][2]), jobs))
    elapsed = time.perf_counter() - began
    outcomes: dict[str, int] = {}
    for outcome, _t in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    latencies = [t * 1000 for _o, t in results]
    return {
        "stored": total,
        "seed_seconds": seed_seconds,
        "bookings": bookings,
        "threads": threads,
        "outcomes": outcomes,
        "seconds": elapsed,
        "per_second": outcomes.get("confirmed", 0) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(latencies),
        "p95_ms": _percentile(latencies, 95),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--places", type=int, default=50)
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=12, help="at most 15 (the pool)")
    args = parser.parse_args(argv)

    os.environ["IDMAJ_TEST_BACKEND"] = args.backend
    os.environ.setdefault(
        "IDMAJ_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    from core.testing import TestDatabase, build_migrated_app

    with tempfile.TemporaryDirectory(prefix="idmaj-visits-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        app = build_migrated_app(database.url, Path(tmp))
        db = app.extensions["idmaj.db"]
        try:
            print(f"backend: {db.dialect}", flush=True)
            r = race(app, args.attempts, args.places, args.threads)
            print(
                f"race: {r['attempts']} attempts for {r['places']} places on {r['threads']} "
                f"threads -> {r['outcomes']}, slot booked={r['booked']}, exact={r['exact']}, "
                f"{r['seconds']:.1f} s, p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms",
                flush=True,
            )
            t = throughput(app, args.stored, args.bookings, args.threads)
            print(
                f"throughput: {t['stored']:,} bookings stored "
                f"(bulk insert {t['seed_seconds']:.0f} s); "
                f"{t['bookings']} new bookings on {t['threads']} threads -> {t['outcomes']}, "
                f"{t['per_second']:.0f} bookings/s, p50 {t['p50_ms']:.0f} ms, "
                f"p95 {t['p95_ms']:.0f} ms",
                flush=True,
            )
            ok = r["exact"] and not any(k.startswith("ERROR") for k in t["outcomes"])
        finally:
            db.dispose()
            database.drop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
