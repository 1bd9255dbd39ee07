"""The file and its parts: the file page, the arrival screening, allergies, problems and
vaccinations. The routes hang on the health blueprint of :mod:`plugins.health.views`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from plugins.health import forms
from plugins.health.services import (
    care,
    consultations,
    files,
    lists,
    overview,
    prescriptions,
)
from plugins.health.views import (
    _file_url,
    _form_page,
    _open,
    _post_action,
    _render,
    bp,
    care_page,
)

# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------


@bp.get("/files/<rn>")
@care_page
def file(rn: str) -> Any:
    acc = _open(rn, "file")
    appts = care.appointments(acc, limit=5)
    page_rows, total = consultations.page(acc, 1, 5)
    parts = overview.sections(acc)
    return _render(
        "health/file.html",
        acc=acc,
        alerts=parts.alerts,
        allergies=parts.allergies,
        problems=parts.problems,
        prescriptions=parts.prescriptions,
        due=parts.due,
        consultations=[consultations.shown(c) for c in page_rows],
        consultations_total=total,
        vaccinations=lists.vaccinations(acc),
        referrals=care.referrals(acc),
        appointments=appts,
        screenings=[parts.screening] if parts.screening else [],
        screening_corrected=parts.screening_corrected,
        fitness=files.fitness_payload(acc.file),
        action=forms.ActionForm(),
        dose_form=forms.DoseForm(),
        intact=prescriptions.intact,
    )


@bp.route("/files/<rn>/screening", methods=["GET", "POST"])
@care_page
def screening(rn: str) -> Any:
    acc = _open(rn, "screening", write=True)
    form = forms.ScreeningForm()
    return _form_page(
        acc,
        form,
        _("Arrival screening"),
        lambda f: files.record_screening(
            acc,
            {k: getattr(f, k).data for k in files.SCREENING_FIELDS},
        ),
        _("The screening was recorded."),
        lambda _r: _file_url(acc),
    )


@bp.route("/files/<rn>/allergies/new", methods=["GET", "POST"])
@care_page
def allergy_new(rn: str) -> Any:
    acc = _open(rn, "allergy", write=True)
    return _form_page(
        acc,
        forms.AllergyForm(),
        _("New allergy"),
        lambda f: lists.add_allergy(
            acc, f.kind.data, f.substance.data, f.reaction.data, f.severity.data
        ),
        _("The allergy was recorded."),
        lambda _r: _file_url(acc),
    )


@bp.post("/files/<rn>/allergies/<int:allergy_id>/remove")
@care_page
def allergy_remove(rn: str, allergy_id: int) -> Any:
    return _post_action(
        rn,
        "allergy",
        lambda acc: lists.remove_allergy(acc, allergy_id),
        _("The allergy was removed."),
    )


@bp.route("/files/<rn>/problems/new", methods=["GET", "POST"])
@care_page
def problem_new(rn: str) -> Any:
    acc = _open(rn, "problem", write=True)
    return _form_page(
        acc,
        forms.ProblemForm(),
        _("New problem"),
        lambda f: lists.add_problem(acc, f.description.data, f.onset_on.data),
        _("The problem was added."),
        lambda _r: _file_url(acc),
    )


@bp.post("/files/<rn>/problems/<int:problem_id>/resolve")
@care_page
def problem_resolve(rn: str, problem_id: int) -> Any:
    return _post_action(
        rn,
        "problem",
        lambda acc: lists.resolve_problem(acc, problem_id),
        _("The problem is resolved."),
    )


@bp.route("/files/<rn>/vaccinations/new", methods=["GET", "POST"])
@care_page
def vaccination_new(rn: str) -> Any:
    acc = _open(rn, "vaccination", write=True)
    return _form_page(
        acc,
        forms.VaccinationForm(),
        _("New vaccination"),
        lambda f: lists.add_vaccination(
            acc, f.vaccine.data, f.given_on.data, f.dose.data, f.lot.data
        ),
        _("The vaccination was recorded."),
        lambda _r: _file_url(acc),
    )
