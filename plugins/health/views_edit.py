"""Corrections before and after signing: a draft consultation edited by its author (then
signed), and the arrival screening corrected (each change a dated line of the history). The
routes hang on the health blueprint of :mod:`plugins.health.views`."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.errors import DomainError, NotFound
from plugins.health import forms
from plugins.health.models import ConsultationStatus
from plugins.health.services import consultations, files
from plugins.health.views import (
    _file_url,
    _form_page,
    _open,
    _render,
    bp,
    care_page,
    place_errors,
)


@bp.route("/files/<rn>/consultations/<int:cid>/edit", methods=["GET", "POST"])
@care_page
def consultation_edit(rn: str, cid: int) -> Any:
    """Edit a draft consultation (its author only), and sign it when asked."""
    acc = _open(rn, "consultation", write=True)
    try:
        row = consultations.get(acc, cid)
    except NotFound:
        abort(404)
    back = url_for("health.consultation", rn=acc.detainee.registration_number, cid=row.id)
    if row.status != ConsultationStatus.draft:
        db_session().commit()  # the read is audited
        flash(_("A signed consultation is read-only: add an addendum."), "info")
        return redirect(back, 303)
    if row.created_by_id != current_user.id:
        abort(403)
    form = forms.ConsultationEditForm(obj=row)
    if request.method == "GET":
        vitals = consultations.shown(row).vitals
        for name in form.VITALS:
            getattr(form, name).data = vitals.get(name, "")
    title = _("Edit the draft consultation")
    submit = _("Save the draft")
    if form.validate_on_submit():
        try:
            consultations.update_draft(
                acc,
                cid,
                reason=form.reason.data,
                notes=form.notes.data,
                diagnosis=form.diagnosis.data or "",
                vitals={k: getattr(form, k).data for k in form.VITALS if getattr(form, k).data},
            )
            if form.sign.data:
                consultations.sign_consultation(acc, cid)
        except DomainError as exc:
            db_session().rollback()
            place_errors(form, exc)
            return render_template(
                "health/form.html", acc=acc, form=form, title=title, submit=submit
            ), exc.status
        db_session().commit()
        flash(
            _("The consultation is signed.") if form.sign.data else _("The draft was saved."),
            "success",
        )
        return redirect(back, 303)
    status = 422 if request.method == "POST" else 200
    return _render("health/form.html", status, acc=acc, form=form, title=title, submit=submit)


@bp.route("/files/<rn>/screenings/<int:sid>/correct", methods=["GET", "POST"])
@care_page
def screening_correct(rn: str, sid: int) -> Any:
    """Correct an arrival screening; the history keeps what it said before, who and when."""
    acc = _open(rn, "screening", write=True)
    try:
        row = files.get_screening(acc, sid)
    except NotFound:
        abort(404)
    form = forms.ScreeningCorrectionForm(obj=row)
    return _form_page(
        acc,
        form,
        _("Correct the arrival screening"),
        lambda f: files.correct_screening(
            acc, sid, {k: getattr(f, k).data or "" for k in files.SCREENING_FIELDS}
        ),
        _("The correction was recorded in the file's history."),
        lambda _r: _file_url(acc),
    )
