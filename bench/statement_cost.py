"""What one SQL statement costs in Python, by layer (a benchmark, not a test):
``python -m bench.statement_cost [--rows 1000] [--repeat 3000]``.

The bare twins of ``make bench-http`` send their SQL through psycopg alone; Idmaj sends the
same statements through SQLAlchemy's ORM, inside Flask. This measures, on PostgreSQL, the
process CPU of one statement through each layer — the same primary-key read of a detainee
with its establishment (the shape of most of a page's statements) and the same INSERT of an
audit event — so that the ceiling the twins set can be read in milliseconds:

- ``psycopg``: a prepared statement on a kept connection, rows as tuples (the twin);
- ``engine``: the same text through SQLAlchemy's engine (``exec_driver_sql``), rows as
  ``Row`` objects;
- ``ORM select``: ``Session.execute(select(Detainee)…)`` with its joined establishment,
  objects built, in an app context (the query layer's scoping included);
- ``ORM get``: ``Session.get(Detainee, id)`` after ``expunge_all`` (identity map empty);
- and for the write, ``ORM flush``: ``audit.record`` + commit against psycopg's INSERT + COMMIT.

Figures go to stdout; docs/performance.md keeps them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _cpu_per_call(fn: Callable[[int], Any], repeat: int, rounds: int = 5) -> float:
    """The median over ``rounds`` of the process CPU per call, in microseconds."""
    figures = []
    for _ in range(rounds):
        began = time.process_time()
        for i in range(repeat):
            fn(i)
        figures.append((time.process_time() - began) / repeat * 1e6)
    return statistics.median(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000, help="detainees seeded")
    parser.add_argument("--repeat", type=int, default=3000, help="statements per round")
    args = parser.parse_args()
    os.environ["IDMAJ_TEST_BACKEND"] = "postgresql"

    import psycopg
    from sqlalchemy import event, select
    from sqlalchemy.engine import make_url

    from bench.run import seed, temporary_database
    from core.audit import services as audit
    from core.db import session
    from core.detainees.models import Detainee
    from core.testing import build_migrated_app

    with tempfile.TemporaryDirectory(prefix="statement-cost-") as tmp_name:
        tmp = Path(tmp_name)
        with temporary_database("postgresql", tmp) as url:
            app = build_migrated_app(url, tmp)
            seed(app, args.rows, random.Random(7), lambda m: None)
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            with app.app_context():
                ids = list(session().scalars(select(Detainee.id)))
                session().commit()
            pick = [ids[i % len(ids)] for i in range(args.repeat)]
            # the read's SQL as the ORM sends it (captured, not written by hand), for the
            # layers below it to send the same text
            captured: list[tuple[str, Any]] = []
            engine = app.extensions["idmaj.db"].engine

            def capture(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
                captured.append((statement, params))

            with app.app_context():
                event.listen(engine, "before_cursor_execute", capture)
                found = session().execute(select(Detainee).where(Detainee.id == ids[0])).scalar()
                event.remove(engine, "before_cursor_execute", capture)
                assert found is not None and found.establishment is not None
                session().rollback()
            read_sql, read_params = captured[-1]
            (id_key,) = [k for k, v in read_params.items() if v == ids[0]]
            results: dict[str, float] = {}
            with psycopg.connect(dsn) as conn, conn.cursor() as cur:

                def raw_read(i: int) -> Any:
                    cur.execute(read_sql, {**read_params, id_key: pick[i]}, prepare=True)
                    return cur.fetchall()

                results["psycopg read"] = _cpu_per_call(raw_read, args.repeat)
                conn.rollback()

                def raw_insert(i: int) -> None:
                    cur.execute(
                        "INSERT INTO core_audit_events (occurred_at, actor_username, action,"
                        " object_type, object_id, summary, ip) VALUES (now(), '', 'bench.cost',"
                        " 'thing', %s, %s::json, '')",
                        (str(i), '{"n": 1}'),
                        prepare=True,
                    )
                    conn.commit()

                results["psycopg insert + commit"] = _cpu_per_call(raw_insert, args.repeat // 3)

            with engine.connect() as conn:  # the same text through the engine's own events

                def engine_read(i: int) -> Any:
                    return conn.exec_driver_sql(read_sql, {**read_params, id_key: pick[i]}).all()

                results["engine + psycopg read"] = _cpu_per_call(engine_read, args.repeat)
            with app.app_context():
                sess = session()

                def orm_select(i: int) -> Any:
                    return sess.execute(select(Detainee).where(Detainee.id == pick[i])).scalar()

                def orm_get(i: int) -> Any:
                    sess.expunge_all()
                    return sess.get(Detainee, pick[i])

                def orm_write(i: int) -> None:
                    audit.record("bench.cost", "thing", str(i), summary={"n": 1})
                    sess.commit()

                results["ORM select read"] = _cpu_per_call(orm_select, args.repeat)
                results["ORM get read"] = _cpu_per_call(orm_get, args.repeat)
                sess.rollback()
                results["ORM audit.record + commit"] = _cpu_per_call(orm_write, args.repeat // 3)
            app.extensions["idmaj.db"].dispose()

    print(f"process CPU per statement, PostgreSQL, {os.cpu_count()} CPUs (median of 5 rounds):")
    for name, micros in results.items():
        print(f"  {name:28s} {micros:8.1f} µs")


if __name__ == "__main__":
    main()
