"""The lock order starts with the detainee's row: two moves, or a move and a release, of one
detainee run one after the other, each seeing what the other committed.

Real connections and commits (``fresh_app``); a veto that pauses widens the window in which,
without the lock, both would read the same stale record. Meaningful on PostgreSQL; on SQLite
every transaction is ``BEGIN IMMEDIATE`` and serialises anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.db import session
from core.detainees.models import Detainee, Placement
from core.detainees.services import get_detainee, move, release
from core.errors import DomainError
from core.establishments.services import get_by_code
from core.plugins import get_plugin_manager, hookimpl
from core.principals import SYSTEM
from core.testing import Factories

pytestmark = pytest.mark.concurrency


class SlowVeto:
    """Asked after the detainee's lock is taken; pauses, vetoes nothing."""

    @hookimpl
    def release_blockers(self, detainee: Any) -> list[Any]:
        time.sleep(0.3)
        return []

    @hookimpl
    def transfer_blockers(self, detainee: Any) -> list[Any]:
        time.sleep(0.3)
        return []


@pytest.fixture
def slow(fresh_app: Any) -> Iterator[Any]:
    pm = get_plugin_manager(fresh_app)
    plugin = SlowVeto()
    pm.register(plugin, name="slowveto")
    try:
        yield fresh_app
    finally:
        pm.unregister(plugin)


def _held(app: Any) -> str:
    with app.app_context():
        factories = Factories(app)
        for code in ("EST-A", "EST-B", "EST-C"):
            factories.establishment(code)
        return factories.detainee("EST-A").registration_number


def _race(app: Any, *actions: Callable[[Detainee], Any]) -> list[str]:
    """Run each action in its own thread and connection, all starting together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def worker(index: int, action: Callable[[Detainee], Any], rn: str) -> None:
        with app.app_context():
            det = get_detainee(rn, SYSTEM)
            session().commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the write lock
            barrier.wait(timeout=60)
            try:
                action(det)
                session().commit()
                outcomes[index] = "ok"
            except DomainError as exc:
                session().rollback()
                outcomes[index] = exc.code
            except Exception as exc:  # reported, not lost in the thread
                session().rollback()
                outcomes[index] = f"{type(exc).__name__}: {exc}"

    rn = app.config["_RACE_RN"]
    threads = [
        threading.Thread(target=worker, args=(i, action, rn)) for i, action in enumerate(actions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _placements(app: Any, rn: str) -> list[tuple[str, str, bool]]:
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        rows = session().scalars(
            select(Placement).where(Placement.detainee_id == det.id).order_by(Placement.id)
        )
        return [(p.reason, p.establishment.code, p.ended_at is None) for p in rows]


def test_two_moves_of_one_detainee_serialise(slow: Any) -> None:
    rn = _held(slow)
    slow.config["_RACE_RN"] = rn

    def to(code: str) -> Callable[[Detainee], Any]:
        return lambda det: move(det, get_by_code(code), SYSTEM)

    assert _race(slow, to("EST-B"), to("EST-C")) == ["ok", "ok"]
    placements = _placements(slow, rn)
    assert [open_ for _r, _c, open_ in placements].count(True) == 1
    with slow.app_context():
        moves = session().scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "detainee.transfer", AuditEvent.object_id == rn)
            .order_by(AuditEvent.id)
        )
        hops = [tuple(e.summary["establishment"]) for e in moves]
        det = get_detainee(rn, SYSTEM)
        # the second move started where the first one ended
        assert hops[0][0] == "EST-A" and hops[1][0] == hops[0][1]
        assert det.establishment.code == hops[1][1]
        assert placements[-1] == ("transfer", det.establishment.code, True)


def test_a_release_and_a_move_of_one_detainee_serialise(slow: Any) -> None:
    rn = _held(slow)
    slow.config["_RACE_RN"] = rn
    outcomes = _race(
        slow,
        lambda det: release(det, SYSTEM, note="court order"),
        lambda det: move(det, get_by_code("EST-B"), SYSTEM),
    )
    with slow.app_context():
        det = get_detainee(rn, SYSTEM)
        assert det.is_released
        open_placements = [p for p in det.placements if p.ended_at is None]
        assert open_placements == []  # a released detainee is held nowhere
        release_event = (
            session()
            .scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "detainee.release", AuditEvent.object_id == rn
                )
            )
            .one()
        )
        # released where they were at that moment
        assert release_event.establishment_id == det.establishment_id
    assert outcomes in (["ok", "released"], ["ok", "ok"])
