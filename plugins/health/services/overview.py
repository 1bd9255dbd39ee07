"""A file at a glance: its alerts (allergies, active problems, due medications, fitness,
screening) and the JSON the API answers (``GET /api/v1/health/files/{rn}``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.db import utcnow
from plugins.health.models import Allergy, Prescription, Problem, ProblemStatus, Screening
from plugins.health.services import consultations, files, lists, prescriptions
from plugins.health.services.access import FileAccess


@dataclass
class Alerts:
    allergies: list[Allergy] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    due: list[prescriptions.DueDose] = field(default_factory=list)
    screening_overdue: bool = False
    screening_pending: bool = False
    unfit: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.allergies or self.problems or self.due or self.screening_overdue or self.unfit
        )


def alerts(
    acc: FileAccess,
    *,
    allergies: list[Allergy] | None = None,
    problems: list[Problem] | None = None,
    due: list[prescriptions.DueDose] | None = None,
) -> Alerts:
    """The file's alerts; ``allergies`` (active), ``problems`` (all) and ``due`` (today's
    doses) when the caller already read them, else read here."""
    hfile = acc.file
    pending = hfile.screened_at is None
    if problems is None:
        problems = lists.problems(acc, active_only=True)
    return Alerts(
        allergies=lists.allergies(acc) if allergies is None else allergies,
        problems=[p for p in problems if p.status == ProblemStatus.active],
        due=[d for d in (prescriptions.due_doses(acc) if due is None else due) if d.record is None],
        screening_pending=pending,
        screening_overdue=pending and hfile.screening_due_at < utcnow(),
        unfit=hfile.fit_to_travel is False and files.fitness_holds(hfile, utcnow().date()),
    )


@dataclass
class Sections:
    """What the overview page shows, each section read once (the alerts reuse the lists)."""

    alerts: Alerts
    allergies: list[Allergy]
    problems: list[Problem]
    prescriptions: list[Prescription]
    due: list[prescriptions.DueDose]
    screening: Screening | None
    screening_corrected: Any


def sections(acc: FileAccess) -> Sections:
    allergy_rows = lists.allergies(acc)
    problem_rows = lists.problems(acc)
    rx = prescriptions.of_file(acc)
    due = prescriptions.due_doses(acc, of=rx)
    latest = files.screenings(acc, limit=1)
    screening = latest[0] if latest else None
    return Sections(
        alerts=alerts(acc, allergies=allergy_rows, problems=problem_rows, due=due),
        allergies=allergy_rows,
        problems=problem_rows,
        prescriptions=rx,
        due=due,
        screening=screening,
        screening_corrected=files.last_correction(acc, screening.id) if screening else None,
    )


def detainee_json(acc: FileAccess) -> dict[str, Any]:
    det = acc.detainee
    return {
        "registration_number": det.registration_number,
        "first_name": det.first_name,
        "last_name": det.last_name,
        "first_name_ar": det.first_name_ar,
        "last_name_ar": det.last_name_ar,
        "birth_date": det.birth_date.isoformat(),
        "sex": det.sex.value,
        "establishment": det.establishment.code,
    }


def file_payload(acc: FileAccess) -> dict[str, Any]:
    """``{detainee, allergies, problems, consultations, prescriptions, fit_to_travel}``."""
    hfile = acc.file
    return {
        "detainee": detainee_json(acc),
        "allergies": [
            {
                "id": a.id,
                "kind": a.kind.value,
                "substance": a.substance,
                "reaction": a.reaction,
                "severity": a.severity.value,
            }
            for a in lists.allergies(acc)
        ],
        "problems": [
            {
                "id": p.id,
                "description": p.description,
                "status": p.status.value,
                "onset_on": p.onset_on.isoformat() if p.onset_on else None,
                "resolved_on": p.resolved_on.isoformat() if p.resolved_on else None,
            }
            for p in lists.problems(acc)
        ],
        "consultations": [consultations.as_json(c) for c in consultations.all_of(acc)],
        "prescriptions": [prescriptions.as_json(p) for p in prescriptions.of_file(acc)],
        "fit_to_travel": files.fitness_payload(hfile)["fit_to_travel"],
        "fitness": files.fitness_payload(hfile),
        "screening": {
            "due_at": hfile.screening_due_at.isoformat(),
            "done_at": hfile.screened_at.isoformat() if hfile.screened_at else None,
            "latest": _latest_screening(acc),
        },
        "emergency_access": acc.emergency is not None,
    }


def _latest_screening(acc: FileAccess) -> dict[str, Any] | None:
    latest = files.screenings(acc, limit=1)
    return files.screening_json(acc, latest[0]) if latest else None
