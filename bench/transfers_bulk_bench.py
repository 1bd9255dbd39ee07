"""Transfers benchmark (not a test): ``python -m bench.transfers_bulk_bench
[--backend sqlite|postgresql] [--detainees 2000]``.

A new prison opens: N detainees held at one establishment (bulk-loaded like the demo's
population) are moved to another with a bulk transfer, through the real services:

1. ``bulk_request`` — one request per detainee in ONE transaction (each in its own
   savepoint: lock, active-transfer check, the modules' ``transfer_blockers``, the timeline,
   the audit event), then commit;
2. each transfer approved, accepted, scheduled and departed (one transaction per step and
   transfer, as people would click), timed per step;
3. each completed — ``core.detainees.services.move`` with the placement history and every
   module's reaction (visits, funds: the account follows) — one transaction each, timed.

Figures go to stdout; docs/performance.md keeps the latest ones.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.principals import SYSTEM


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _report(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<40} n={len(ms):>5}  median {statistics.median(ms):8.2f} ms  "
        f"p95 {_pct(ms, 0.95):8.2f} ms  total {sum(samples):7.1f} s  "
        f"{len(ms) / (sum(samples) or 1):7.1f}/s"
    )


def build(app: Any, n: int) -> list[str]:
    """Two establishments; the first filled with ``n`` detainees (bulk insert)."""
    from core.db import session
    from core.demo import _person_at
    from core.demo_population import fill_to_occupancy
    from core.detainees.models import Detainee
    from core.testing import Factories

    with app.app_context():
        f = Factories(app)
        old = f.establishment("BNC-OLD", capacity=n)
        f.establishment("BNC-NEW", capacity=n + 500)
        start = time.perf_counter()
        fill_to_occupancy([old], random.Random(7), _person_at, occupancy=(1.0, 1.0))
        session().commit()
        print(f"seeded {n} detainees in {time.perf_counter() - start:.1f} s")
        return list(
            session().scalars(
                select(Detainee.registration_number).where(Detainee.establishment_id == old.id)
            )
        )


def measure(app: Any, rns: list[str]) -> None:
    from core.db import session
    from core.detainees.models import Detainee
    from plugins.transfers import services

    with app.app_context():
        start = time.perf_counter()
        result = services.bulk_request(
            "BNC-OLD", "BNC-NEW", rns, {"reason": "overcrowding"}, SYSTEM
        )
        session().commit()
        elapsed = time.perf_counter() - start
        print(
            f"bulk_request of {len(rns)}: {elapsed:.1f} s "
            f"({len(rns) / elapsed:.0f} requests/s in one transaction); "
            f"requested {len(result.requested)}, blocked {len(result.blocked)}, "
            f"refused {len(result.refused)}"
        )
        ids = [tid for _rn, tid in result.requested]
    today = None
    steps: dict[str, list[float]] = {a: [] for a in ("approve", "accept", "schedule", "depart")}
    completes: list[float] = []
    with app.app_context():
        today = services.today_local()
        for tid in ids:
            for action, samples in steps.items():
                t0 = time.perf_counter()
                t = services.get_transfer(tid, SYSTEM)
                if action == "approve":
                    services.approve(t, SYSTEM, judicial_authorisation="TPI 2026/1")
                elif action == "schedule":
                    services.schedule(t, SYSTEM, date=today, vehicle="Bus 1")
                else:
                    getattr(services, action)(t, SYSTEM)
                session().commit()
                samples.append(time.perf_counter() - t0)
        for tid in ids:
            t0 = time.perf_counter()
            services.complete(services.get_transfer(tid, SYSTEM), SYSTEM)
            session().commit()
            completes.append(time.perf_counter() - t0)
        for action, samples in steps.items():
            _report(f"{action} (service + commit)", samples)
        _report("complete (move + reactions + commit)", completes)
        moved = session().scalar(select(Detainee.id).where(Detainee.registration_number == rns[0]))
        assert moved is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--detainees", type=int, default=2000)
    args = parser.parse_args()
    os.environ["IDMAJ_TEST_BACKEND"] = args.backend
    from core.testing import TestDatabase, build_migrated_app

    with tempfile.TemporaryDirectory(prefix="transfers-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            app = build_migrated_app(database.url, Path(tmp))
            rns = build(app, args.detainees)
            measure(app, rns)
            app.extensions["idmaj.db"].dispose()
        finally:
            database.drop()


if __name__ == "__main__":
    main()
