"""Demo data: transfers in every state around Ain Sebaâ (CAS-AS) and Oukacha (CAS-OK) — waiting
for the director, for the destination, leaving today, on the way, done, refused, cancelled —
a court appearance, and a year of hearings held by video link. Adds the Oukacha director and
transfers officer, who accept what arrives there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import DomainError
from core.identity.services import create_user
from core.principals import SYSTEM
from plugins.transfers import services
from plugins.transfers.models import RemoteHearing

COURTS = [
    "Tribunal de première instance de Casablanca",
    "Cour d'appel de Casablanca",
    "المحكمة الابتدائية بالدار البيضاء",
    "Tribunal de première instance de Salé",
]

OUKACHA_USERS = [
    ("director.oukacha", "director", "Mustapha Directeur", "CAS-OK"),
    ("transfers.oukacha", "transfers_officer", "Nabil Transferts", "CAS-OK"),
]


def _held_at(context: Any, code: str) -> list[Any]:
    return [d for d in context.detainees if d.establishment.code == code and not d.is_released]


def _advance(t: Any, upto: str, today: dt.date) -> None:
    order = ["approved", "accepted", "scheduled", "in_transit", "completed"]
    for status in order[: order.index(upto) + 1]:
        if status == "approved":
            services.approve(t, SYSTEM, judicial_authorisation="TPI-CASA 2026/" + str(t.id))
        elif status == "accepted":
            services.accept(t, SYSTEM)
        elif status == "scheduled":
            services.schedule(
                t, SYSTEM, date=today, escort="Brigade 3 (4 agents)", vehicle="Fourgon 12-A-4471"
            )
        elif status == "in_transit":
            services.depart(t, SYSTEM)
        elif status == "completed":
            services.complete(t, SYSTEM)


def seed(context: Any) -> None:
    from core.demo import DEMO_PASSWORD

    for username, role, name, code in OUKACHA_USERS:
        if username in context.users:
            continue
        context.users[username] = create_user(
            username=username,
            password=DEMO_PASSWORD,
            full_name=name,
            roles=[role],
            establishments=[code],
            actor=SYSTEM,
        )
        context.logins.append((username, DEMO_PASSWORD, f"{role} @ {code}"))
    today = services.today_local()
    # the last detainees of the list: the other modules' demo stories use the first ones
    casas = _held_at(context, "CAS-AS")[::-1]
    oukacha = _held_at(context, "CAS-OK")[::-1]
    plans = [
        # (detainee, destination, kind, reason, status)
        ("CAS-OK", "transfer", "overcrowding", "requested"),
        ("RBT-AR", "transfer", "closer_to_family", "requested"),
        ("CAS-OK", "transfer", "security", "approved"),
        ("CAS-OK", "transfer", "programme", "accepted"),
        ("CAS-OK", "transfer", "overcrowding", "scheduled"),
        ("CAS-OK", "transfer", "disciplinary", "completed"),
        ("CAS-OK", "transfer", "detainee_request", "refused"),
        ("RBT-AR", "transfer", "overcrowding", "cancelled"),
        ("", "court", "court", "requested"),
    ]
    plans += [("CAS-AS", "transfer", "closer_to_family", "in_transit")]  # arriving today
    plans += [("CAS-AS", "transfer", "medical", "requested")]  # for the Oukacha director
    people = casas[: len(plans) - 2] + oukacha[:2]
    for (dest, kind, reason, status), det in zip(plans, people, strict=False):
        data = {"destination": dest, "kind": kind, "reason": reason}
        if kind == "court":
            data["place"] = COURTS[0]
            data["planned_for"] = today + dt.timedelta(days=2)
        try:  # another module's demo story may block one (money on hold): skip it
            with context.session.begin_nested():
                _story(det, data, status, today)
        except DomainError:
            continue
    _hearings(context, today)


def _story(det: Any, data: dict[str, Any], status: str, today: dt.date) -> None:
    t = services.request_transfer(det, data, SYSTEM)
    if status in ("approved", "accepted", "scheduled", "in_transit", "completed"):
        _advance(t, status, today)
    elif status == "refused":
        _advance(t, "approved", today)
        services.refuse(t, SYSTEM, reason="no_space", note="Quartier plein")
    elif status == "cancelled":
        services.cancel(t, SYSTEM, reason="Audience reportée")


def _hearings(context: Any, today: dt.date) -> None:
    """A year of hearings by video link at Ain Sebaâ and Oukacha (more and more each month)."""
    rng = context.rng
    for code, base in (("CAS-AS", 6), ("CAS-OK", 4)):
        held = _held_at(context, code)
        if not held:
            continue
        for months_ago in range(11, -1, -1):
            first = (today.replace(day=1) - dt.timedelta(days=months_ago * 30)).replace(day=1)
            for _i in range(base + (11 - months_ago) + rng.randint(0, 3)):
                day = first + dt.timedelta(days=rng.randint(0, 27))
                if day > today:
                    continue
                det = rng.choice(held)
                context.session.add(
                    RemoteHearing(
                        establishment_id=det.establishment_id,
                        detainee_id=det.id,
                        court=rng.choice(COURTS),
                        hearing_on=day,
                        case_reference=f"{day.year}/{rng.randint(100, 9999)}",
                        escort_hours=rng.choice((4, 6, 6, 8)),
                        recorded_by="transfers",
                    )
                )
    context.session.flush()
