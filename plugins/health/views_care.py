"""Fitness notes, referrals and appointments; the file's history, emergency access and the
access log. The routes hang on the health blueprint of :mod:`plugins.health.views`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.errors import DomainError, Forbidden, NotFound
from core.portal.access import apply_errors
from core.query_args import page_number
from core.validation import ascii_digits
from plugins.health import forms, labels
from plugins.health.permissions import ACCESS_LOG
from plugins.health.services import (
    access,
    care,
    files,
    lists,
)
from plugins.health.services.localtime import LOCAL_TZ
from plugins.health.views import (
    PER_PAGE,
    _file_url,
    _form_page,
    _open,
    _post_action,
    _render,
    bp,
    care_page,
)

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
