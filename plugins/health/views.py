"""The care team's pages: the blueprint and what its pages share (a file opened through
:func:`services.access.open_file`, audited; a form about one file; a button), and the lists of
the establishment: the arrival screenings overdue, today's appointments, medical units and the
detainees-per-doctor ratio, the directors' figures (counts only). The pages about one file hang
on the same blueprint: :mod:`~plugins.health.views_file` (the file and its parts),
:mod:`~plugins.health.views_consultations` (consultations, prescriptions, doses),
:mod:`~plugins.health.views_care` (fitness, referrals, appointments, history, emergency access,
the access log) and :mod:`~plugins.health.views_edit` (corrections). Rules live in the
services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.errors import DomainError, Forbidden, NotFound
from core.establishments.models import Establishment
from core.forms import claim, complete
from core.portal.access import apply_errors, permission_required
from core.scoping import establishment_ids
from core.validation import ascii_digits
from plugins.health import forms, labels
from plugins.health.models import Appointment, MedicalUnit
from plugins.health.permissions import READ, STATS, UNITS
from plugins.health.services import (
    access,
    care,
    files,
)
from plugins.health.services.localtime import today_local

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


# a template global: the same function on every page (not a context processor run per render)
bp.add_app_template_global(labels.label, "health_label")


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
