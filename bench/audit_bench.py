"""Audit trail benchmark (not a test): ``python -m bench.audit_bench [--backend postgresql]
[--seconds S] [--writers 1,2,4,8]``.

On a database of its own, measures:

- audited writes per second with 1, 2, 4, 8 concurrent writers: each write is one transaction
  that records one audit event through ``core.audit.services.record`` and commits — the write
  path every audited change pays. ``--mode threads`` runs the writers as threads of one process
  (one Python interpreter, one GIL, as in one web worker); ``--mode processes`` (the default)
  runs each writer in its own process with its own app and connection, as gunicorn workers
  and ``idmaj worker`` processes do on a host;
- the time from commit to sealed, with the sealer running as the worker would run it (a loop
  calling ``seal_pending`` every ``--seal-every`` seconds) while 4 writers write;
- the sealer's own throughput (events chained and checkpointed per second);
- with ``--floor``, the database's own ceiling beside it: the same INSERT into the events table
  and COMMIT sent by writer processes over raw psycopg, no application code at all (PostgreSQL
  only). Its ratio "8 writers / one writer" is the most any application can reach on the
  machine, since every line of Python per write only lowers it.

Figures go to stdout; docs/performance.md keeps the latest ones.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _writers(app: Any, n: int, seconds: float) -> tuple[int, float]:
    from core.audit import services as audit
    from core.db import session

    counts = [0] * n
    stop = threading.Event()
    start = threading.Barrier(n + 1)

    def writer(k: int) -> None:
        with app.app_context():
            start.wait()
            while not stop.is_set():
                audit.record("bench.write", "thing", f"{k}-{counts[k]}", summary={"k": k})
                session().commit()
                counts[k] += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return sum(counts), elapsed


def _process_writer(
    db_url: str, instance: str, seconds: float, ready: Any, go: Any, out: Any
) -> None:
    """One writer in a process of its own: its own app, engine and connection."""
    from core.app import create_app
    from core.audit import services as audit
    from core.db import session
    from core.testing import test_config

    app = create_app(test_config(db_url, Path(instance)))
    count = 0
    with app.app_context():
        audit.record("bench.warmup", "thing", "0")
        session().commit()
        ready.release()
        go.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            audit.record("bench.write", "thing", f"{os.getpid()}-{count}", summary={"n": count})
            session().commit()
            count += 1
    out.put((count, seconds))


def _together(target: Any, args: tuple[Any, ...], n: int, seconds: float) -> tuple[int, float]:
    """``n`` processes of ``target(*args, seconds, ready, go, out)`` start and warm up, then
    write for ``seconds`` all at once; the writes they counted, in all."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, seconds, ready, go, out)) for _ in range(n)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    return sum(count for count, _ in results), seconds


def _process_writers(db_url: str, instance: Path, n: int, seconds: float) -> tuple[int, float]:
    """``n`` writer processes, each with its own app and connection."""
    return _together(_process_writer, (db_url, str(instance)), n, seconds)


_FLOOR_INSERT = (
    "INSERT INTO core_audit_events (occurred_at, actor_username, action, object_type, object_id,"
    " summary, ip) VALUES (now(), '', 'bench.floor', 'thing', %s, %s::json, '')"
)


def _floor_writer(dsn: str, seconds: float, ready: Any, go: Any, out: Any) -> None:
    """One writer with no application: the audit INSERT and a COMMIT over raw psycopg."""
    import psycopg

    count = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(_FLOOR_INSERT, ("warmup", '{"n": 0}'), prepare=True)
        conn.commit()
        ready.release()
        go.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            cur.execute(_FLOOR_INSERT, (f"{os.getpid()}-{count}", '{"n": 1}'), prepare=True)
            conn.commit()
            count += 1
    out.put((count, seconds))


def _floor_writers(db_url: str, n: int, seconds: float) -> tuple[int, float]:
    """``n`` raw psycopg writer processes, started and released together as the app's are."""
    from sqlalchemy.engine import make_url

    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return _together(_floor_writer, (dsn,), n, seconds)


def _seal_latency(app: Any, seconds: float, seal_every: float) -> list[float]:
    """Writers write for ``seconds`` while a sealer loop runs; return commit→sealed delays."""
    from sqlalchemy import select

    from core.audit import sealer
    from core.audit import services as audit
    from core.audit.models import AuditEvent
    from core.db import session

    committed: dict[int, float] = {}
    sealed: dict[int, float] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def writer() -> None:
        with app.app_context():
            while not stop.is_set():
                ev = audit.record("bench.latency", "thing", "x")
                session().commit()
                with lock:
                    committed[ev.id] = time.perf_counter()

    def seal_loop() -> None:
        with app.app_context():
            last_index = 0
            while not stop.is_set() or len(sealed) < len(committed):
                sealer.seal_pending()
                now = time.perf_counter()
                rows = session().execute(
                    select(AuditEvent.id, AuditEvent.chain_index).where(
                        AuditEvent.chain_index > last_index
                    )
                )
                for event_id, index in rows:
                    sealed.setdefault(event_id, now)
                    last_index = max(last_index, index)
                session().rollback()
                if stop.is_set() and len(sealed) >= len(committed):
                    break
                time.sleep(seal_every)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    sealing = threading.Thread(target=seal_loop)
    for t in threads:
        t.start()
    sealing.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    sealing.join(60)
    return [sealed[i] - c for i, c in committed.items() if i in sealed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="postgresql", choices=("sqlite", "postgresql"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--seal-every", type=float, default=1.0)
    parser.add_argument("--mode", default="processes", choices=("processes", "threads"))
    parser.add_argument(
        "--writes-only",
        action="store_true",
        help="measure the write path only (runs on a checkout of the previous, head-row design)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the same INSERT and COMMIT over raw psycopg (the machine's ceiling)",
    )
    args = parser.parse_args()
    os.environ["IDMAJ_TEST_BACKEND"] = args.backend
    from core.testing import TestDatabase, build_migrated_app

    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            app = build_migrated_app(database.url, Path(tmp))
            app.config["AUDIT_ANCHOR_FILE"] = str(Path(tmp) / "anchors.jsonl")
            print(
                f"backend {args.backend}, {os.cpu_count()} CPUs, {args.seconds:.0f} s per run, "
                f"writers as {args.mode}"
            )
            if args.floor and args.backend != "postgresql":
                parser.error("--floor measures PostgreSQL only")
            base = floor_base = None
            for n in [int(x) for x in args.writers.split(",")]:
                if args.mode == "processes":
                    writes, elapsed = _process_writers(database.url, Path(tmp), n, args.seconds)
                else:
                    writes, elapsed = _writers(app, n, args.seconds)
                rate = writes / elapsed
                base = base or rate
                line = f"audited writes, {n} writer(s): {rate:8.0f}/s  ({rate / base:.2f}x one)"
                if args.floor:
                    writes, elapsed = _floor_writers(database.url, n, args.seconds)
                    floor = writes / elapsed
                    floor_base = floor_base or floor
                    line += f"   raw psycopg: {floor:8.0f}/s  ({floor / floor_base:.2f}x one)"
                print(line)
            if args.writes_only:
                return
            from core.audit import sealer

            with app.app_context():
                began = time.perf_counter()
                total = sealer.seal_all()
                took = time.perf_counter() - began
            print(
                f"sealer: {total} events chained and signed in {took:.2f} s ({total / took:.0f}/s)"
            )
            delays = sorted(_seal_latency(app, args.seconds, args.seal_every))
            if delays:
                p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
                print(
                    f"commit -> sealed (sealer every {args.seal_every:.1f} s, 4 writers, "
                    f"{len(delays)} events): median {statistics.median(delays):.2f} s, "
                    f"p95 {p95:.2f} s, max {delays[-1]:.2f} s"
                )
            with app.app_context():
                from core.audit.services import verify

                result = verify()
                print(
                    f"verify: ok={result.ok}, {result.checked} events, "
                    f"{result.checkpoints} checkpoints"
                )
        finally:
            if "app" in locals():
                app.extensions["idmaj.db"].dispose()
            database.drop()


if __name__ == "__main__":
    main()
