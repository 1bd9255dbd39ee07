"""Shared helpers of the transfers tests."""

from __future__ import annotations

from typing import Any

from core.principals import SYSTEM

ORIGIN = "EST-A"
DEST = "EST-B"
OTHER = "EST-C"
BASE = "/api/v1/transfers"


def detainee(app: Any, factories: Any, est: str = ORIGIN, **kw: Any) -> str:
    with app.app_context():
        for code in (ORIGIN, DEST, OTHER):
            factories.establishment(code)
        kw.setdefault("legal_status", "convicted")
        return factories.detainee(est, **kw).registration_number


def user(app: Any, factories: Any, role: str, est: str | tuple[str, ...] = ORIGIN) -> Any:
    codes = (est,) if isinstance(est, str) else est
    with app.app_context():
        return factories.user(role, codes)


def request_body(rn: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"detainee": rn, "destination": DEST, "reason": "overcrowding"}
    body.update(kw)
    return body


def make_transfer(app: Any, rn: str, upto: str = "requested", **kw: Any) -> int:
    """A transfer of ``rn`` (at its establishment) to EST-B, advanced as SYSTEM to ``upto``."""
    from core.db import session
    from core.detainees.services import get_detainee
    from plugins.transfers import services

    steps = ["requested", "approved", "accepted", "scheduled", "in_transit", "completed"]
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        data = {"destination": DEST, "reason": "overcrowding", **kw}
        t = services.request_transfer(det, data, SYSTEM)
        tid = t.id
        for status in steps[1 : steps.index(upto) + 1] if upto in steps else []:
            t = services.get_transfer(tid, SYSTEM)
            if status == "approved":
                services.approve(t, SYSTEM, judicial_authorisation="AJ-2026/1")
            elif status == "accepted":
                services.accept(t, SYSTEM)
            elif status == "scheduled":
                services.schedule(t, SYSTEM, date=services.today_local())
            elif status == "in_transit":
                services.depart(t, SYSTEM)
            elif status == "completed":
                services.complete(t, SYSTEM)
        if upto == "refused":
            t = services.get_transfer(tid, SYSTEM)
            services.approve(t, SYSTEM, judicial_authorisation="AJ-2026/1")
            services.refuse(services.get_transfer(tid, SYSTEM), SYSTEM, reason="no_space")
        if upto == "cancelled":
            services.cancel(services.get_transfer(tid, SYSTEM), SYSTEM, reason="test")
        session().commit()
        return tid


def status_of(app: Any, tid: int) -> str:
    from core.db import session
    from plugins.transfers.models import Transfer

    with app.app_context():
        session().expire_all()
        return session().get(Transfer, tid).status.value


def establishment_of(app: Any, rn: str) -> str:
    from core.db import session
    from core.detainees.services import get_detainee

    with app.app_context():
        session().expire_all()
        return get_detainee(rn, SYSTEM).establishment.code
