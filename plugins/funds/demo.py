"""Demo data: a few deposits, wages and purchases on the demo detainees' accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.db import utcnow
from core.principals import SYSTEM
from plugins.funds import services

FAMILY = [
    ("Fatima Zahra Benali", "BE123456"),
    ("Khadija El Amrani", "A456789"),
    ("Abdelkader Tazi", "BK77881"),
    ("Aicha Ouazzani", "C901234"),
]


def seed(context: Any) -> None:
    rng = context.rng
    held = [d for d in context.detainees if not d.is_released][:120]
    now = utcnow()
    for det in held:
        services.open_account(det, SYSTEM)
        # spread the demo history over the last month (oldest first)
        times = sorted(
            now - dt.timedelta(days=rng.randint(1, 29), minutes=rng.randint(0, 600))
            for _i in range(4)
        )
        for when in times[: rng.randint(1, 3)]:
            name, nid = rng.choice(FAMILY)
            services.deposit(
                det,
                SYSTEM,
                amount=f"{rng.randint(5, 80) * 10}.00",
                source="family",
                depositor_name=name,
                depositor_national_id=nid,
                when=when,
            )
        if rng.random() < 0.5:
            services.purchase(
                det, SYSTEM, amount=f"{rng.randint(10, 49)}.50", memo="Canteen", when=times[-1]
            )
    by_est: dict[int, list[Any]] = {}
    for det in held:
        by_est.setdefault(det.establishment_id, []).append(det)
    for est in context.establishments:
        workers = by_est.get(est.id, [])[:8]
        if workers:
            services.wage_run(
                est,
                SYSTEM,
                workshop="Atelier menuiserie",
                lines=[
                    services.WageLine(d.registration_number, f"{rng.randint(100, 400)}.00")
                    for d in workers
                ],
            )
