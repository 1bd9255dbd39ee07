"""Demo data: medical units everywhere; at CAS-AS a head doctor, health files with screenings
(two overdue), allergies, problems, consultations, prescriptions with today's doses, and
appointments today (one by telemedicine)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.db import utcnow
from core.principals import SYSTEM
from plugins.health.models import (
    Appointment,
    AppointmentStatus,
    DoseOutcome,
    DoseRecord,
    HealthFile,
    MedicalUnit,
    UnitKind,
)
from plugins.health.services import care, consultations, files, lists, prescriptions
from plugins.health.services.access import FileAccess
from plugins.health.services.localtime import local_time, today_local

HOME = "CAS-AS"
UNITS = [
    (UnitKind.general, "Cabinet de médecine générale", "عيادة الطب العام", "Lun–Sam 08:30–16:30"),
    (UnitKind.dental, "Cabinet dentaire", "عيادة طب الأسنان", "Mar, Jeu 09:00–13:00"),
]
HOME_UNITS = [
    (UnitKind.dialysis, "Unité d'hémodialyse", "وحدة تصفية الدم", "Lun, Mer, Ven 07:00–13:00"),
    (UnitKind.tb_lab, "Laboratoire de la tuberculose", "مختبر داء السل", "Lun–Ven 08:30–12:00"),
    (UnitKind.telemedicine, "Télémédecine (CHU Ibn Rochd)", "الطب عن بعد", "Mer 10:00–12:00"),
    (UnitKind.psychiatry, "Consultation de psychiatrie", "استشارة الطب النفسي", "Jeu 14:00–17:00"),
]
ALLERGIES = [
    ("drug", "Pénicilline", "Urticaire généralisée", "high"),
    ("food", "Arachides", "Œdème des lèvres", "medium"),
    ("drug", "Aspirine", "Crise d'asthme", "medium"),
]
PROBLEMS = ["Diabète de type 2", "Hypertension artérielle", "Asthme", "Lombalgie chronique"]
VISITS = [
    ("Céphalées", "Céphalées frontales depuis 3 jours, pas de fièvre.", "Céphalée de tension"),
    (
        "Suivi diabète",
        "Glycémie capillaire 1,45 g/L à jeun. Observance correcte.",
        "Diabète équilibré",
    ),
    ("Toux", "Toux sèche depuis une semaine, auscultation normale.", "Bronchite aiguë"),
    (
        "Douleur dentaire",
        "Douleur molaire inférieure droite.",
        "Carie profonde, adresser au dentiste",
    ),
]
MEDS = [
    ("Metformine 850 mg", "1 comprimé", "08:00,20:00"),
    ("Amlodipine 5 mg", "1 comprimé", "08:00"),
    ("Salbutamol 100 µg", "2 bouffées si besoin", ""),
]


def seed(context: Any) -> None:
    sess = context.session
    rng = context.rng
    for est in context.establishments:
        for kind, name, name_ar, schedule in UNITS + (HOME_UNITS if est.code == HOME else []):
            sess.add(
                MedicalUnit(
                    establishment_id=est.id,
                    kind=kind,
                    name=name,
                    name_ar=name_ar,
                    schedule=schedule,
                )
            )
    sess.flush()
    home = next((e for e in context.establishments if e.code == HOME), None)
    doctor = context.users.get("doctor")
    nurse = context.users.get("nurse")
    if home is None or doctor is None or nurse is None:
        return
    from core.demo import DEMO_PASSWORD
    from core.identity.services import create_user

    create_user(
        username="headdoctor",
        password=DEMO_PASSWORD,
        full_name="Dr. Naima Médecin-chef",
        roles=["doctor", "head_doctor"],
        establishments=[HOME],
        actor=SYSTEM,
    )
    context.logins.append(("headdoctor", DEMO_PASSWORD, "head doctor (health, CAS-AS)"))
    held = [d for d in context.detainees if not d.is_released]
    by_id = {d.id: d for d in held}
    hfiles = {
        f.detainee_id: f
        for f in sess.scalars(select(HealthFile).where(HealthFile.detainee_id.in_(list(by_id))))
    }
    patients = [d for d in held if d.establishment_id == home.id and d.id in hfiles][:12]
    # everybody else: screened on paper at arrival (no contents in the demo)
    chosen = {d.id for d in patients}
    for f in hfiles.values():
        if f.detainee_id not in chosen:
            f.screened_at = f.screening_due_at - dt.timedelta(hours=20)
    today = today_local()
    now = utcnow()
    units = {
        u.kind: u
        for u in sess.scalars(select(MedicalUnit).where(MedicalUnit.establishment_id == home.id))
    }
    for i, det in enumerate(patients):
        acc = FileAccess(det, hfiles[det.id], doctor if i % 3 else nurse)
        if i >= 2:  # the first two are the overdue screenings of the demo
            files.record_screening(
                acc,
                {
                    "tuberculosis": "negative" if i % 5 else "suspected",
                    "self_harm_risk": "low" if i % 4 else "medium",
                    "pregnancy": "not_applicable" if det.sex.value == "M" else "no",
                    "chronic_conditions": PROBLEMS[i % len(PROBLEMS)] if i % 2 else "",
                    "addictions": "Tabac, 10 cigarettes par jour" if i % 3 == 0 else "",
                    "mental_health": "",
                    "notes": "Examen d'entrée sans particularité",
                },
            )
        if i % 4 == 1:
            lists.add_allergy(acc, *ALLERGIES[i % len(ALLERGIES)])
        if i % 2:
            lists.add_problem(acc, PROBLEMS[i % len(PROBLEMS)], today - dt.timedelta(days=400))
        doc = FileAccess(det, hfiles[det.id], doctor)
        for j in range(1 + i % 3):
            reason, notes, diagnosis = VISITS[(i + j) % len(VISITS)]
            consultations.create(
                acc,
                reason=reason,
                notes=notes,
                diagnosis=diagnosis,
                vitals={"temperature": f"{36.5 + rng.randint(0, 15) / 10:.1f}", "pulse": 70 + j},
                sign=j > 0 or i % 2 == 0,
            )
        if i < 6:
            med, dosage, times = MEDS[i % len(MEDS)]
            p = prescriptions.create(
                acc,
                medication=med,
                dosage=dosage,
                times=times,
                starts_on=today - dt.timedelta(days=10),
                instructions="Pendant les repas" if times else "",
            )
            if i != 5:  # one draft waits for the doctor's signature
                prescriptions.sign(doc, p.id)
                morning = local_time(today, "08:00")
                if times and morning < now and i != 3:  # detainee 3's dose is missed
                    sess.add(
                        DoseRecord(
                            prescription_id=p.id,
                            establishment_id=home.id,
                            due_at=morning,
                            outcome=DoseOutcome.given if i % 2 == 0 else DoseOutcome.refused,
                            note="",
                            recorded_by_id=nurse.id,
                            recorded_at=morning + dt.timedelta(minutes=20),
                        )
                    )
        if i in (4, 7):
            lists.add_vaccination(acc, "Hépatite B", today - dt.timedelta(days=30), "2/3", "HB2291")
        if i == 8:
            care.refer(
                doc,
                hospital="CHU Ibn Rochd, Casablanca",
                specialty="Cardiologie",
                reason="Souffle cardiaque à explorer",
            )
        if i < 4:  # today's appointments
            hhmm = ["09:00", "10:30", "14:00", "15:30"][i]
            starts = local_time(today, hhmm)
            past = starts < now
            sess.add(
                Appointment(
                    file_id=hfiles[det.id].id,
                    establishment_id=home.id,
                    created_by_id=nurse.id,
                    unit_id=(
                        units.get(UnitKind.telemedicine) if i == 2 else units.get(UnitKind.general)
                    ).id
                    if units
                    else None,
                    starts_at=starts,
                    purpose=[
                        "Contrôle tensionnel",
                        "Renouvellement",
                        "Avis cardiologique",
                        "Pansement",
                    ][i],
                    telemedicine=i == 2,
                    status=AppointmentStatus.done if past else AppointmentStatus.booked,
                    status_at=starts if past else None,
                )
            )
    sess.flush()
    if len(patients) > 10:
        files.set_fitness(
            FileAccess(patients[10], hfiles[patients[10].id], doctor),
            False,
            "Fauteuil roulant, oxygène pendant le trajet",
            today + dt.timedelta(days=14),
        )
