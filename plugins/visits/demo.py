"""Demo data for the visits module: rules, sessions and two weeks of slots at every
establishment, the demo "family" linked (approved) to a detainee at CAS-AS, some bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.db import utcnow
from core.detainees.models import LegalStatus
from core.principals import SYSTEM

from . import services
from .models import Relation

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
