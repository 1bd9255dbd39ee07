"""The stock race on real PostgreSQL connections (``concurrency``: make test-postgres; SQLite's
BEGIN IMMEDIATE would serialise it): 200 families racing for the last 20 units get exactly 20,
and no order is half placed."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from idmaj_purchasing import services
from idmaj_purchasing.models import Order, OrderLine
from idmaj_purchasing.tests_support import stock_of
from sqlalchemy import func, select, text

from core.db import session
from core.errors import Conflict
from core.identity.models import User
from core.principals import SYSTEM
from core.testing import Factories

pytestmark = pytest.mark.concurrency
BUYERS = 200
UNITS = 20


def _link_many(pairs: list[tuple[int, int]]) -> None:
    """Approved links for the race's set-up, written straight into the visits module's table
    (two hundred through its API would take most of the test's time; the API path is proven
    by every other test of this package, see ``tests_support.link_through_visits``)."""
    session().execute(
        text(
            "INSERT INTO visits_relations (visitor_id, detainee_id, relationship, status, reason,"
            " created_at, decided_at) VALUES (:v, :d, 'parent', 'approved', '', :now, :now)"
        ),
        [{"v": v, "d": d, "now": services.common.now()} for v, d in pairs],
    )


def test_two_hundred_families_race_for_the_last_twenty_units(fresh_app: Any) -> None:
    factories = Factories(fresh_app)
    with fresh_app.app_context():
        product = (
            services.add_product(
                {
                    "establishment": "EST-A",
                    "name": "Dattes",
                    "category": "food",
                    "price": "35.00",
                    "stock": UNITS,
                    "max_per_week": 5,
                },
                SYSTEM,
            )
            if factories.establishment("EST-A")
            else None
        )
        session().commit()
        pid = product.id
        pairs = []
        for i in range(BUYERS):
            det = factories.detainee("EST-A", first_name=f"Ali{i}", national_id=f"RC{i:06d}")
            family = factories.visitor()
            pairs.append((family.id, det.id, det.registration_number))
        _link_many([(v, d) for v, d, _rn in pairs])
        session().commit()
    barrier = threading.Barrier(BUYERS, timeout=120)
    results: list[Any] = [None] * BUYERS

    def buyer(i: int) -> None:
        family_id, _det_id, rn = pairs[i]
        # no connection is held before the start: 200 threads share the pool's 15, so they
        # queue for a connection and race on the stock row as the transactions overlap
        barrier.wait()
        with fresh_app.app_context():
            try:
                family = session().get(User, family_id)
                services.place_order(family, rn, [{"product_id": pid, "quantity": 1}], "agency")
                session().commit()
                results[i] = "ordered"
            except Conflict as exc:
                session().rollback()
                results[i] = exc.code
            except Exception as exc:  # reported, never hidden
                session().rollback()
                results[i] = repr(exc)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert Counter(results) == Counter({"ordered": UNITS, "out_of_stock": BUYERS - UNITS})
    with fresh_app.app_context():
        assert stock_of(pid) == 0
        assert session().scalar(select(func.count()).select_from(Order)) == UNITS
        assert session().scalar(select(func.sum(OrderLine.quantity))) == UNITS
