"""Demo complaints (``idmaj demo seed``): at Ain Sebaâ, the demo family's complaints in several
states (one just received, one answered then appealed, a confidential one), complaints staff
recorded on detainees' behalf (some overdue), and a year of closed ones at every establishment
so the figures and the chart have something to show. The national calendar is proposed for
this year and the next. A regional reviewer (``regional``) is assigned the establishments of
Ain Sebaâ's region: the demo family's appeal waits for them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.db import utcnow
from core.detainees.models import LegalStatus
from core.principals import SYSTEM

from . import services
from .models import Channel, Complaint, Outcome, Status
from .permissions import REGIONAL_REVIEWER
from .services.categories import all_categories
from .services.filing import record

FAMILY_COMPLAINTS = [
    # category, subject, body, days ago, what happens next
    ("food", "الأكل بارد", "Lmakla katji bared kol nhar, w ma kaykfich.", 0, "received"),
    (
        "visits.visit",
        "الزيارة تقصرات",
        "Zyarat sebt dazt f 10 d9aye9 bla ma ykmlo tlatin.",
        12,
        "appealed",
    ),
    ("treatment", "معاملة سيئة", "تعرض ابني لمعاملة سيئة من طرف أحد الحراس.", 2, "confidential"),
]
STAFF_COMPLAINTS = [
    (
        "living_conditions",
        "Cellule humide",
        "Infiltrations d'eau dans la cellule 12.",
        30,
        "overdue",
    ),
    ("funds.money", "Mandat non crédité", "Le mandat de la famille n'apparaît pas.", 25, "overdue"),
    ("other", "Demande de formation", "Souhaite suivre la formation en menuiserie.", 6, "review"),
    ("food", "Régime diabétique", "Pas de repas adapté au diabète.", 45, "closed"),
    ("discrimination", "Accès à la bibliothèque", "Accès refusé sans motif.", 20, "inadmissible"),
]
SUBJECTS = ["Couverture", "Douche", "Courrier", "Promenade", "Cantine", "Médicaments"]


def _backdate(c: Complaint, when: dt.datetime) -> None:
    for e in c.entries:
        e.created_at = when


def _regional_reviewer(context: Any, home: Any) -> None:
    """``regional``: the regional complaints reviewer of Ain Sebaâ's region."""
    from core.demo import DEMO_PASSWORD
    from core.identity.services import create_user

    region = [e.code for e in context.establishments if e.region == home.region]
    context.users["regional"] = create_user(
        username="regional",
        password=DEMO_PASSWORD,
        full_name="Meryem Réviseure régionale",
        roles=[REGIONAL_REVIEWER],
        establishments=region,
        actor=SYSTEM,
    )
    context.logins.append(("regional", DEMO_PASSWORD, f"{REGIONAL_REVIEWER} @ {', '.join(region)}"))


def seed(context: Any) -> None:
    sess = context.session
    today = services.local_today()
    for year in (today.year, today.year + 1):
        services.propose_year(year, SYSTEM)
    cas = next((e for e in context.establishments if e.code == "CAS-AS"), None)
    if cas is None:
        return
    held = [
        d
        for d in context.detainees
        if d.establishment_id == cas.id and d.legal_status != LegalStatus.released
    ]
    if len(held) < 4:
        return
    cats = {c.code: c for c in all_categories()}
    _regional_reviewer(context, cas)
    officer = context.users.get("complaints")
    now = utcnow()
    family = context.users.get("family")
    made: list[Complaint] = []
    # the demo family is linked to the first detainee held at Ain Sebaâ (visits' demo)
    for code, subject, body, days, story in FAMILY_COMPLAINTS:
        if family is None or code not in cats:
            continue
        when = now - dt.timedelta(days=days, hours=2)
        c = record(
            family,
            held[0],
            author=family,
            category=cats[code],
            channel=Channel.online,
            subject=subject,
            body=body,
            confidential=story == "confidential",
            received_at=when,
        )
        _backdate(c, when)
        if story == "appealed":
            services.acknowledge(c, officer or SYSTEM)
            services.answer(
                c,
                officer or SYSTEM,
                "تم تقليص مدة الزيارة لسبب أمني، وسيتم تعويضها بزيارة أخرى.",
                "partly_founded",
            )
            c.answered_at = c.first_answered_at = when + dt.timedelta(days=3)
            services.appeal(c, family, "لم يقترح علينا أي تعويض إلى حد الآن.")
        elif story == "confidential":
            services.acknowledge(c, SYSTEM)
        made.append(c)
    for i, (code, subject, body, days, story) in enumerate(STAFF_COMPLAINTS):
        if code not in cats:
            continue
        when = now - dt.timedelta(days=days, hours=3)
        c = record(
            officer or SYSTEM,
            held[1 + i % 3],
            author=None,
            category=cats[code],
            channel=(Channel.written, Channel.oral)[i % 2],
            subject=subject,
            body=body,
            received_at=when,
        )
        _backdate(c, when)
        if story in ("overdue", "review"):
            services.acknowledge(c, officer or SYSTEM)
            if story == "review":
                services.start_review(c, officer or SYSTEM)
        elif story == "closed":
            services.answer(
                c, officer or SYSTEM, "Un régime adapté est servi depuis lundi.", "founded"
            )
            c.answered_at = c.first_answered_at = when + dt.timedelta(days=8)
            services.close(c, officer or SYSTEM)
        elif story == "inadmissible":
            services.declare_inadmissible(c, officer or SYSTEM, "duplicate", "Déjà traitée.")
        made.append(c)
    # a year of history at every establishment, for the figures and the chart
    rng = context.rng
    for est in context.establishments:
        people = [d for d in context.detainees if d.establishment_id == est.id][:6]
        for k in range(12 if est.id == cas.id else 4):
            if not people:
                break
            days = rng.randint(20, 360)
            when = now - dt.timedelta(days=days, hours=rng.randint(0, 20))
            code = rng.choice(
                ["food", "living_conditions", "treatment", "other", "visits.visit", "funds.money"]
            )
            if code not in cats:
                code = "other"
            c = record(
                SYSTEM,
                people[k % len(people)],
                author=None,
                category=cats[code],
                channel=Channel.written,
                subject=SUBJECTS[k % len(SUBJECTS)],
                body="Plainte archivée (démonstration).",
                received_at=when,
            )
            services.answer(c, SYSTEM, "Suite donnée.", rng.choice(list(Outcome)[1:]))
            c.answered_at = c.first_answered_at = when + dt.timedelta(days=rng.randint(1, 25))
            c.status = Status.closed
            c.closed_at = c.answered_at + dt.timedelta(days=31)
            for e in c.entries:
                e.created_at = (
                    when
                    if e.kind.value == "status" and e.to_status == "received"
                    else c.answered_at
                )
    sess.flush()
