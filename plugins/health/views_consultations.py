"""Consultations, prescriptions and the doses given. The routes hang on the health blueprint
of :mod:`plugins.health.views`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.errors import DomainError, NotFound
from core.forms import claim, complete
from core.portal.access import apply_errors
from core.query_args import page_number
from plugins.health import forms, labels
from plugins.health.services import (
    consultations,
    prescriptions,
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
