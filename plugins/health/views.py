"""The care team's pages: the file and its parts, the arrival screenings overdue, today's
appointments, medical units and the detainees-per-doctor ratio, the directors' figures (counts
only), emergency access and the access log. Rules live in the services; every page that shows
clinical contents opens the file through :func:`services.access.open_file` (audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.errors import DomainError, Forbidden, NotFound
from core.establishments.models import Establishment
from core.forms import claim, complete
from core.portal.access import apply_errors, permission_required
from core.query_args import page_number
from core.scoping import establishment_ids
from core.validation import ascii_digits
from plugins.health import forms, labels
from plugins.health.models import Appointment, MedicalUnit
from plugins.health.permissions import ACCESS_LOG, READ, STATS, UNITS
from plugins.health.services import (
    access,
    care,
    consultations,
    files,
    lists,
    overview,
    prescriptions,
)
from plugins.health.services.localtime import LOCAL_TZ, today_local

bp = Blueprint(
    "health",
    __name__,
    url_prefix="/health",
    template_folder=str(Path(__file__).parent / "templates"),
)
PER_PAGE = 20


def care_page(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Pages about one file: the care team, or a clinician / the medical inspector who may ask
    for emergency access (the file itself decides, in ``_open``); anybody else gets 403."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        if not (access.is_clinician(current_user) or access.may_ask_emergency(current_user)):
            abort(403)
        return fn(*args, **kwargs)

    return wrapper


@bp.app_context_processor
def _health_labels() -> dict[str, Any]:
    return {"health_label": labels.label}


def _open(rn: str, what: str, *, write: bool = False) -> access.FileAccess:
    try:
        return access.open_file(rn, current_user, what=what, write=write)
    except Forbidden:
        abort(403)
    except NotFound:
        if access.may_ask_emergency(current_user) and not write and access.clean_rn(rn):
            # another establishment's detainee: the emergency page says what can be done
            return abort(redirect(url_for("health.emergency", rn=ascii_digits(rn)[:40])))
        abort(404)


def _my_establishments() -> list[Establishment]:
    ids = establishment_ids(current_user)
    stmt = select(Establishment).order_by(Establishment.code)
    if ids is not None:
        stmt = stmt.where(Establishment.id.in_(sorted(ids) or [-1]))
    return list(db_session().scalars(stmt))


def _render(template: str, status: int = 200, **context: Any) -> Any:
    db_session().commit()  # the reads are audited
    return render_template(template, **context), status


def _form_page(
    acc: access.FileAccess,
    form: Any,
    title: str,
    act: Callable[[Any], Any],
    success: str,
    target: Callable[[Any], str],
    submit: str | None = None,
) -> Any:
    """A form about one file: validate, claim once, run the service, go to ``target``."""
    if form.validate_on_submit():
        replay = claim(form, current_user) if isinstance(form, forms.OnceForm) else None
        if replay is not None:
            return replay
        try:
            result = act(form)
        except DomainError as exc:
            db_session().rollback()
            place_errors(form, exc)
            return render_template(
                "health/form.html", acc=acc, form=form, title=title, submit=submit
            ), exc.status
        url = target(result)
        if isinstance(form, forms.OnceForm):
            complete(form, url)
        db_session().commit()
        flash(success, "success")
        return redirect(url)
    status = 422 if request.method == "POST" else 200
    return _render("health/form.html", status, acc=acc, form=form, title=title, submit=submit)


def place_errors(form: Any, exc: DomainError) -> None:
    """``apply_errors``, with a vital sign's message (``vitals.pulse``) beside its own field."""
    fields = dict(exc.fields or {})
    for name in list(fields):
        sub = name.split(".", 1)[1] if name.startswith("vitals.") else ""
        if sub and hasattr(form, sub):
            fields[sub] = fields.pop(name)
    exc.fields = fields
    apply_errors(form, exc)


def _file_url(acc: access.FileAccess) -> str:
    return url_for("health.file", rn=acc.detainee.registration_number)


def _post_action(rn: str, what: str, act: Callable[[access.FileAccess], Any], success: str) -> Any:
    """A button on a page (sign, stop, resolve…): CSRF-checked POST, then back to the page."""
    form = forms.ActionForm()
    acc = _open(rn, what, write=True)
    back = request.form.get("next") or _file_url(acc)
    if not back.startswith("/health/"):
        back = _file_url(acc)
    if not form.validate_on_submit():
        abort(400)
    try:
        act(acc)
    except DomainError as exc:
        db_session().rollback()
        flash(str(exc.message), "error")
        return redirect(back, 303)
    db_session().commit()
    flash(success, "success")
    return redirect(back, 303)


# ---------------------------------------------------------------------------------------------
# Lists of the establishment
# ---------------------------------------------------------------------------------------------


@bp.get("/")
@permission_required(READ)
def index() -> Any:
    if not access.is_clinician(current_user):
        abort(403)
    q = ascii_digits(request.args.get("q", "")).strip()[:40]
    if q:
        return redirect(url_for("health.file", rn=q))
    ests = _my_establishments()
    ids = [e.id for e in ests]
    overdue = files.overdue_screenings(ids, limit=10)
    today = []
    for est in ests:
        today.extend(care.appointments_on(est.id))
    return _render(
        "health/index.html",
        establishments=ests,
        figures=care.figures(ids),
        overdue=overdue,
        today=today,
    )


@bp.get("/screenings/overdue")
@permission_required(READ)
def overdue() -> Any:
    if not access.is_clinician(current_user):
        abort(403)
    ids = [e.id for e in _my_establishments()]
    return _render("health/overdue.html", overdue=files.overdue_screenings(ids), now=utcnow())


@bp.get("/appointments")
@permission_required(READ)
def appointments() -> Any:
    if not access.is_clinician(current_user):
        abort(403)
    try:
        day = (
            dt.date.fromisoformat(request.args.get("day", ""))
            if request.args.get("day")
            else today_local()
        )
    except ValueError:
        day = today_local()
    if not (dt.date(1900, 1, 1) <= day <= dt.date(2999, 12, 31)):
        day = today_local()
    rows: list[Appointment] = []
    for est in _my_establishments():
        rows.extend(care.appointments_on(est.id, day))
    return _render("health/appointments.html", rows=rows, day=day, action=forms.ActionForm())


@bp.get("/figures")
@permission_required(STATS)
def figures() -> Any:
    """Counts per establishment: never a name, never a word of a file."""
    ests = _my_establishments()
    rows = [(e, care.figures([e.id])) for e in ests]
    return _render("health/figures.html", rows=rows, ratios=care.doctor_ratios(ests))


@bp.get("/units")
@permission_required(STATS)
def units() -> Any:
    ests = _my_establishments()
    by_est: dict[int, list[MedicalUnit]] = {}
    for unit in care.units([e.id for e in ests]):
        by_est.setdefault(unit.establishment_id, []).append(unit)
    return _render(
        "health/units.html", establishments=ests, by_est=by_est, ratios=care.doctor_ratios(ests)
    )


@bp.route("/units/new", methods=["GET", "POST"])
@permission_required(UNITS)
def unit_new() -> Any:
    form = forms.UnitForm()
    ests = _my_establishments()
    form.establishment.choices = [(e.code, e.name(labels.lang())) for e in ests]
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        est = next((e for e in ests if e.code == form.establishment.data), None)
        try:
            if est is None:
                raise NotFound(_("Not found."))
            care.add_unit(
                current_user,
                est,
                kind=form.kind.data,
                name=form.name.data,
                name_ar=form.name_ar.data or "",
                schedule=form.schedule.data or "",
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("health/unit_form.html", form=form), exc.status
        complete(form, url_for("health.units"))
        db_session().commit()
        flash(_("The medical unit was added."), "success")
        return redirect(url_for("health.units"))
    return render_template(
        "health/unit_form.html", form=form
    ), 422 if request.method == "POST" else 200


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@permission_required(UNITS)
def unit_edit(unit_id: int) -> Any:
    unit = db_session().get(MedicalUnit, unit_id)  # scoped: another establishment's is None
    if unit is None:
        abort(404)
    form = forms.UnitEditForm(obj=unit)
    if form.validate_on_submit():
        try:
            care.update_unit(
                current_user, unit, schedule=form.schedule.data, active=form.active.data
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("health/unit_form.html", form=form, unit=unit), exc.status
        db_session().commit()
        flash(_("The medical unit was updated."), "success")
        return redirect(url_for("health.units"))
    return render_template(
        "health/unit_form.html", form=form, unit=unit
    ), 422 if request.method == "POST" else 200


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
            {
                k: getattr(f, k).data
                for k in (
                    "tuberculosis",
                    "self_harm_risk",
                    "pregnancy",
                    "chronic_conditions",
                    "addictions",
                    "mental_health",
                    "notes",
                )
            },
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


# --- consultations ----------------------------------------------------------------------------


@bp.get("/files/<rn>/consultations")
@care_page
def consultation_list(rn: str) -> Any:
    acc = _open(rn, "consultations")
    page = page_number(request.args.get("page"))
    rows, total = consultations.page(acc, page, PER_PAGE)
    return _render(
        "health/consultations.html",
        acc=acc,
        rows=[consultations.shown(c) for c in rows],
        total=total,
        page=page,
        per_page=PER_PAGE,
    )


@bp.route("/files/<rn>/consultations/new", methods=["GET", "POST"])
@care_page
def consultation_new(rn: str) -> Any:
    acc = _open(rn, "consultation", write=True)
    form = forms.ConsultationForm()

    def act(f: forms.ConsultationForm) -> Any:
        return consultations.create(
            acc,
            reason=f.reason.data,
            notes=f.notes.data,
            diagnosis=f.diagnosis.data or "",
            vitals={k: getattr(f, k).data for k in f.VITALS if getattr(f, k).data},
            telemedicine=f.telemedicine.data,
            sign=f.sign.data,
        )

    return _form_page(
        acc,
        form,
        _("New consultation"),
        act,
        _("The consultation was recorded."),
        lambda row: url_for("health.consultation", rn=acc.detainee.registration_number, cid=row.id),
    )


@bp.route("/files/<rn>/consultations/<int:cid>", methods=["GET", "POST"])
@care_page
def consultation(rn: str, cid: int) -> Any:
    acc = _open(rn, "consultation")
    try:
        row = consultations.get(acc, cid)
    except NotFound:
        abort(404)
    form = forms.AddendumForm()
    if request.method == "POST":
        if not acc.can_write:
            abort(403)
        if form.validate_on_submit():
            replay = claim(form, current_user)
            if replay is not None:
                return replay
            try:
                consultations.add_addendum(acc, cid, form.text.data)
            except DomainError as exc:
                db_session().rollback()
                apply_errors(form, exc)
            else:
                url = url_for("health.consultation", rn=rn, cid=cid)
                complete(form, url)
                db_session().commit()
                flash(_("The addendum was added."), "success")
                return redirect(url)
    status = 422 if request.method == "POST" else 200
    return _render(
        "health/consultation.html",
        status,
        acc=acc,
        c=consultations.shown(row),
        form=form,
        action=forms.ActionForm(),
    )


@bp.post("/files/<rn>/consultations/<int:cid>/sign")
@care_page
def consultation_sign(rn: str, cid: int) -> Any:
    return _post_action(
        rn,
        "consultation",
        lambda acc: consultations.sign_consultation(acc, cid),
        _("The consultation is signed."),
    )


# --- prescriptions ----------------------------------------------------------------------------


@bp.route("/files/<rn>/prescriptions/new", methods=["GET", "POST"])
@care_page
def prescription_new(rn: str) -> Any:
    acc = _open(rn, "prescription", write=True)
    return _form_page(
        acc,
        forms.PrescriptionForm(),
        _("New prescription"),
        lambda f: prescriptions.create(
            acc,
            medication=f.medication.data,
            dosage=f.dosage.data,
            instructions=f.instructions.data or "",
            times=f.times.data or "",
            starts_on=f.starts_on.data,
            ends_on=f.ends_on.data,
        ),
        _("The prescription was saved as a draft."),
        lambda row: url_for("health.prescription", rn=acc.detainee.registration_number, pid=row.id),
    )


@bp.get("/files/<rn>/prescriptions/<int:pid>")
@care_page
def prescription(rn: str, pid: int) -> Any:
    acc = _open(rn, "prescription")
    try:
        row = prescriptions.get(acc, pid)
    except NotFound:
        abort(404)
    due = [d for d in prescriptions.due_doses(acc) if d.prescription.id == row.id]
    return _render(
        "health/prescription.html",
        acc=acc,
        p=row,
        intact=prescriptions.intact(row),
        due=due,
        action=forms.ActionForm(),
        dose_form=forms.DoseForm(),
    )


@bp.get("/files/<rn>/prescriptions/<int:pid>/print")
@care_page
def prescription_print(rn: str, pid: int) -> Any:
    """The printable prescription, in Arabic (``?lang=ar``, the default) or French."""
    acc = _open(rn, "print")
    try:
        row = prescriptions.get(acc, pid)
    except NotFound:
        abort(404)
    if row.status.value == "draft":
        abort(404)
    language = "fr" if request.args.get("in") == "fr" else "ar"
    db_session().commit()
    with force_locale(language):
        html = render_template(
            "health/prescription_print.html",
            acc=acc,
            p=row,
            intact=prescriptions.intact(row),
            print_lang=language,
            signer=labels.user_name(row.signed_by_id),
        )
    return html


@bp.post("/files/<rn>/prescriptions/<int:pid>/sign")
@care_page
def prescription_sign(rn: str, pid: int) -> Any:
    return _post_action(
        rn,
        "prescription",
        lambda acc: prescriptions.sign(acc, pid),
        _("The prescription is signed."),
    )


@bp.post("/files/<rn>/prescriptions/<int:pid>/stop")
@care_page
def prescription_stop(rn: str, pid: int) -> Any:
    return _post_action(
        rn,
        "prescription",
        lambda acc: prescriptions.stop(acc, pid),
        _("The prescription is stopped."),
    )


@bp.post("/files/<rn>/prescriptions/<int:pid>/dose")
@care_page
def dose(rn: str, pid: int) -> Any:
    acc = _open(rn, "doses", write=True)
    form = forms.DoseForm()
    back = url_for("health.prescription", rn=rn, pid=pid)
    if request.form.get("next") == "file":
        back = _file_url(acc)
    if not form.validate_on_submit():
        flash(_("Choose given, refused or missed."), "error")
        return redirect(back, 303)
    try:
        due_at = dt.datetime.fromisoformat(form.due_at.data)
        if due_at.tzinfo is None:
            due_at = due_at.replace(tzinfo=LOCAL_TZ)
        prescriptions.record_dose(acc, pid, due_at, form.outcome.data, form.note.data or "")
    except ValueError:
        flash(_("No dose of this prescription is due at that time."), "error")
        return redirect(back, 303)
    except DomainError as exc:
        db_session().rollback()
        flash(str(exc.message), "error")
        return redirect(back, 303)
    db_session().commit()
    flash(_("The dose was recorded."), "success")
    return redirect(back, 303)


# --- fitness, referrals, appointments ---------------------------------------------------------


@bp.route("/files/<rn>/fitness", methods=["GET", "POST"])
@care_page
def fitness(rn: str) -> Any:
    acc = _open(rn, "fitness", write=True)
    if not acc.is_doctor:
        abort(403)
    form = forms.FitnessForm()
    if request.method == "GET" and acc.file.fit_to_travel is not None:
        form.fit.data = "yes" if acc.file.fit_to_travel else "no"
        form.needs.data = acc.file.fitness_needs
        form.until.data = acc.file.fitness_until
    return _form_page(
        acc,
        form,
        _("Fitness to travel"),
        lambda f: files.set_fitness(acc, f.fit.data == "yes", f.needs.data or "", f.until.data),
        _("The decision was recorded."),
        lambda _r: _file_url(acc),
    )


@bp.route("/files/<rn>/referrals/new", methods=["GET", "POST"])
@care_page
def referral_new(rn: str) -> Any:
    acc = _open(rn, "referral", write=True)
    if not acc.is_doctor:
        abort(403)
    return _form_page(
        acc,
        forms.ReferralForm(),
        _("Referral to a hospital"),
        lambda f: care.refer(
            acc,
            hospital=f.hospital.data,
            specialty=f.specialty.data or "",
            reason=f.reason.data,
            urgent=f.urgent.data,
        ),
        _("The referral was recorded."),
        lambda _r: _file_url(acc),
    )


@bp.route("/files/<rn>/referrals/<int:ref_id>/move", methods=["GET", "POST"])
@care_page
def referral_move(rn: str, ref_id: int) -> Any:
    """Ask the transfers module for a hospital move (only when it is installed)."""
    if not care.hospital_moves_available():
        abort(404)
    acc = _open(rn, "referral", write=True)
    if not acc.is_doctor:
        abort(403)
    try:
        care.get_referral(acc, ref_id)
    except NotFound:
        abort(404)
    form = forms.HospitalMoveForm()
    from core.establishments.services import all_establishments

    form.destination.choices = [
        (e.code, e.name(labels.lang()))
        for e in all_establishments()
        if e.id != acc.file.establishment_id and e.active
    ]
    return _form_page(
        acc,
        form,
        _("Ask for a hospital move"),
        lambda f: care.ask_hospital_move(acc, ref_id, f.destination.data),
        _("The hospital move was requested from the transfers office."),
        lambda _r: _file_url(acc),
    )


@bp.post("/files/<rn>/referrals/<int:ref_id>/status")
@care_page
def referral_status(rn: str, ref_id: int) -> Any:
    status = request.form.get("status", "")
    return _post_action(
        rn,
        "referral",
        lambda acc: care.close_referral(acc, ref_id, status),
        _("The referral was updated."),
    )


@bp.route("/files/<rn>/appointments/new", methods=["GET", "POST"])
@care_page
def appointment_new(rn: str) -> Any:
    acc = _open(rn, "appointment", write=True)
    form = forms.AppointmentForm()
    with acc.reading():
        units_here = [u for u in care.units([acc.file.establishment_id]) if u.active]
    form.unit_id.choices = [("", _("No particular unit"))] + [
        (str(u.id), u.display_name(labels.lang())) for u in units_here
    ]

    def act(f: forms.AppointmentForm) -> Any:
        starts = dt.datetime.combine(f.day.data, f.time.data, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
        unit = int(f.unit_id.data) if (f.unit_id.data or "").isdigit() else None
        return care.book(
            acc,
            starts_at=starts,
            purpose=f.purpose.data,
            unit_id=unit,
            telemedicine=f.telemedicine.data,
        )

    return _form_page(
        acc,
        form,
        _("New appointment"),
        act,
        _("The appointment was booked."),
        lambda _r: _file_url(acc),
    )


@bp.post("/files/<rn>/appointments/<int:aid>/status")
@care_page
def appointment_status(rn: str, aid: int) -> Any:
    status = request.form.get("status", "")
    return _post_action(
        rn,
        "appointment",
        lambda acc: care.set_appointment_status(acc, aid, status),
        _("The appointment was updated."),
    )


# --- history, emergency access, access log ----------------------------------------------------


@bp.get("/files/<rn>/history")
@care_page
def history(rn: str) -> Any:
    acc = _open(rn, "history")
    page = page_number(request.args.get("page"))
    rows, total = lists.history(acc, page, PER_PAGE)
    return _render(
        "health/history.html",
        acc=acc,
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        names=labels.users_named([r.actor_id for r in rows]),
        coded_fields=labels.CODED_FIELDS,
    )


@bp.route("/files/<rn>/emergency", methods=["GET", "POST"])
def emergency(rn: str) -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if not access.may_ask_emergency(current_user):
        abort(403)
    rn = ascii_digits(rn)[:40]
    form = forms.EmergencyForm()
    if form.validate_on_submit():
        try:
            grant = access.grant_emergency(rn, current_user, form.reason.data)
        except NotFound:
            abort(404)
        except DomainError as exc:
            db_session().rollback()
            if exc.code == "not_needed":
                flash(str(exc.message), "info")
                return redirect(url_for("health.file", rn=rn))
            apply_errors(form, exc)
            return render_template(
                "health/emergency.html", rn=rn, form=form, hours=access.emergency_hours()
            ), exc.status
        db_session().commit()
        flash(
            _(
                "Emergency access granted until %(time)s. It is recorded and the head doctor "
                "is told.",
                time=labels.when(grant.expires_at),
            ),
            "warning",
        )
        return redirect(url_for("health.file", rn=rn))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "health/emergency.html", rn=rn, form=form, hours=access.emergency_hours()
    ), status


@bp.get("/files/<rn>/access-log")
def access_log(rn: str) -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    from core.identity.services import has_permission

    if not has_permission(current_user, ACCESS_LOG):
        abort(403)
    page = page_number(request.args.get("page"))
    try:
        det, rows, total = access.access_log(rn, current_user, page, PER_PAGE)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    return _render(
        "health/access_log.html",
        det=det,
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        ests=labels.establishments_named([r.establishment_id for r in rows]),
    )


@bp.get("/access-log")
def access_search() -> Any:
    """Auditors: find a detainee's access log by registration number."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    from core.identity.services import has_permission

    if not has_permission(current_user, ACCESS_LOG):
        abort(403)
    q = ascii_digits(request.args.get("q", "")).strip()[:40]
    if q:
        return redirect(url_for("health.access_log", rn=q))
    return render_template("health/access_search.html")
