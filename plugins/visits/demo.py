"""Demo data for the visits module: rules, sessions and two weeks of slots at every
establishment, the demo "family" linked (approved) to a detainee at CAS-AS, some bookings —
and a day that can be worked on the day the demo is seeded: at every establishment a visiting
time today that has not ended, with confirmed bookings the gate can check in, and link
requests waiting at CAS-AS for the visits office."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import LegalStatus
from core.errors import DomainError
from core.principals import SYSTEM

from . import services
from .models import Relation, Slot, SlotStatus

TODAY_BOOKINGS = 4  # confirmed visits today at every establishment, for the gate
PENDING_REQUESTS = 3  # link requests waiting at CAS-AS, for the visits office

INFO = {
    "visiting_days_ar": "من الاثنين إلى السبت، صباحا ومساء حسب المواعيد المحجوزة.",
    "visiting_days_fr": "Du lundi au samedi, matin et après-midi, sur rendez-vous réservé.",
    "conditions_ar": "الحضور قبل الموعد بثلاثين دقيقة. يجب أن يكون الزائر مرتبطا بالمعتقل "
    "ومسجلا في الحجز. يرافق القاصرين شخص بالغ.",
    "conditions_fr": "Présentez-vous trente minutes avant l'heure. Le visiteur doit être lié au "
    "détenu et inscrit sur la réservation. Les mineurs sont accompagnés d'un adulte.",
    "documents_ar": "البطاقة الوطنية للتعريف الإلكترونية لكل بالغ، ورمز الحجز أو رمز QR.",
    "documents_fr": "Carte nationale d'identité (CIN) de chaque adulte, la référence ou le QR code "
    "de la réservation.",
    "items_ar": "الملابس في كيس شفاف. يمنع إدخال قفة المؤونة والهواتف.",
    "items_fr": "Vêtements dans un sac transparent. Couffins alimentaires et téléphones interdits.",
}

SESSIONS = [
    # weekday, start, end, ordinary places, supervised places
    (0, "09:00", "10:30", 12, 2),
    (1, "09:00", "10:30", 12, 2),
    (2, "14:00", "15:30", 12, 2),
    (3, "09:00", "10:30", 12, 2),
    (4, "09:00", "10:30", 10, 0),
    (5, "09:00", "10:30", 15, 3),
]


def seed(context: Any) -> None:
    today = services.local_date(utcnow())
    for est in context.establishments:
        data = dict(INFO)
        data["address"] = f"{est.name_fr}, {est.city}"
        services.update_rules(SYSTEM, est, data)
        for weekday, start, end, cap, sup in SESSIONS:
            services.add_template(
                SYSTEM,
                est,
                {
                    "weekday": weekday,
                    "start_time": start,
                    "end_time": end,
                    "capacity": cap,
                    "capacity_supervised": sup,
                    "valid_from": today.isoformat(),
                },
            )
        services.generate_slots(SYSTEM, est, today, 15)
    family = context.users.get("family")
    cas = next((e for e in context.establishments if e.code == "CAS-AS"), None)
    if family is None or cas is None:
        return
    held = [
        d
        for d in context.detainees
        if d.establishment_id == cas.id and d.legal_status != LegalStatus.released
    ]
    if not held:
        return
    sess = context.session
    relative = held[0]
    sess.add(
        Relation(
            visitor_id=family.id,
            detainee_id=relative.id,
            relationship_kind="parent",
            status="approved",
            decided_at=utcnow(),
        )
    )
    sess.flush()
    slots = services.bookable_slots(family, relative)
    if slots:
        services.book(
            family,
            slots[0].id,
            relative.registration_number,
            [services.CompanionIn("Youssef Benali", "BE654321", dt.date(1995, 3, 2))],
        )
    # other families fill a few places, so the day sheet and fill rate have something to show
    for i, det in enumerate(held[1:6], start=1):
        visitor = _demo_visitor(i)
        sess.add(
            Relation(
                visitor_id=visitor.id,
                detainee_id=det.id,
                relationship_kind="spouse",
                status="approved",
                decided_at=utcnow(),
            )
        )
        sess.flush()
        context.logins.append((visitor.username, "idmaj-demo-2026", "visitor (demo family)"))
        options = services.bookable_slots(visitor, det)
        if options:
            services.book(visitor, options[i % len(options)].id, det.registration_number)
    _today_at_every_establishment(context)
    _pending_requests(context, cas, held[6:])


def _today_slot(est: Any) -> Slot:
    """A visiting time of today that has not ended: the next one of the weekly sessions, or
    else one made for the demo, starting within the quarter hour and lasting 90 minutes."""
    now = utcnow()
    tomorrow = services.local_date(now) + dt.timedelta(days=1)
    since = now - dt.timedelta(hours=6)
    for slot in services.list_slots(est.id, since, services.local_moment(tomorrow, "00:00")):
        if slot.status == SlotStatus.open and slot.kind == "ordinary" and slot.ends_at > now:
            return slot
    start = (now + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=(15 - start.minute % 15) % 15)
    return services.create_slot(SYSTEM, est, start, start + dt.timedelta(minutes=90), 12)


def _today_at_every_establishment(context: Any) -> None:
    """Confirmed visits today at every establishment, booked two days ago by demo families
    (each with an approved link), so the gate's day sheet and check-in can be tried."""
    for n, est in enumerate(context.establishments):
        held = [
            d
            for d in context.detainees
            if d.establishment_id == est.id and d.legal_status != LegalStatus.released
        ][: TODAY_BOOKINGS + 6]
        if not held:
            continue
        slot = _today_slot(est)
        booked_at = min(utcnow(), slot.starts_at) - dt.timedelta(days=2)
        for k, det in enumerate(held[-TODAY_BOOKINGS:]):
            visitor = _background_visitor(f"{est.code}-{k}", 300000 + n * 100 + k)
            context.session.add(
                Relation(
                    visitor_id=visitor.id,
                    detainee_id=det.id,
                    relationship_kind=("spouse", "parent", "sibling", "child")[k % 4],
                    status="approved",
                    decided_at=utcnow(),
                )
            )
            context.session.flush()
            try:
                # a detainee whose week is already booked (a small demo) is simply left out
                with context.session.begin_nested():
                    services.book(visitor, slot.id, det.registration_number, now=booked_at)
            except DomainError:
                continue


def _pending_requests(context: Any, cas: Any, detainees: list[Any]) -> None:
    """Link requests waiting for the visits office of CAS-AS (made through the service, as a
    family's form would: number and birth date)."""
    for k, det in enumerate(detainees[:PENDING_REQUESTS]):
        visitor = _background_visitor(f"req-{k}", 400000 + k)
        services.request_relation(
            visitor, det.registration_number, ("sibling", "parent", "spouse")[k % 3], det.birth_date
        )


def _background_visitor(tag: str, cin_number: int) -> Any:
    """A demo family account that is not one of the printed logins (its password is random)."""
    from core.identity.models import User
    from core.identity.services import create_user

    username = f"demo.family.{tag.lower()}"
    existing = db_session().scalar(select(User).where(User.username == username))
    if existing is not None:
        return existing
    return create_user(
        username=username,
        password=secrets.token_urlsafe(18),
        full_name=f"Famille {tag}",
        roles=["visitor"],
        national_id=f"BJ{cin_number}",
        phone=f"06{cin_number % 100000000:08d}",
        actor=SYSTEM,
    )


def _demo_visitor(i: int) -> Any:
    from core.identity.services import create_user

    return create_user(
        username=f"family{i}",
        password="idmaj-demo-2026",
        full_name=f"Famille démo {i}",
        roles=["visitor"],
        national_id=f"BK{200000 + i}",
        phone=f"06000000{i:02d}",
        actor=SYSTEM,
    )
