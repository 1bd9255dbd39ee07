"""The transfers pages: the queue of one's establishments, the request form, a transfer's page
(timeline, blockers, the next steps the user may take), the escort record, the printable
transfer order and escort sheet (Arabic and French), bulk transfers and hearings by video link.
Rules live in the services; a page commits once, or rolls back and says why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.db import session as db_session
from core.detainees.services import get_detainee
from core.errors import Blocked, DomainError, NotFound
from core.establishments.models import Establishment
from core.forms import claim, complete
from core.identity.services import has_permission
from core.portal.access import apply_errors, permission_required
from core.query_args import page_number
from core.scoping import establishment_ids
from core.tasks import get_queue
from core.validation import ascii_digits
from plugins.transfers import forms, services
from plugins.transfers.services import machine
from plugins.transfers.services.labels import KIND

bp = Blueprint(
    "transfers",
    __name__,
    url_prefix="/transfers",
    template_folder=str(Path(__file__).parent / "templates"),
)
PER_PAGE = 20
PRINT_LANGUAGES = ("ar", "fr")


# the label helpers are template globals: the same functions on every page (a context
# processor would hand them over again at each render)
for _name, _label in {
    "transfer_status_label": services.status_label,
    "transfer_kind_label": services.kind_label,
    "transfer_reason_label": services.reason_label,
    "transfer_refusal_label": services.refusal_label,
    "transfer_action_label": services.action_label,
}.items():
    bp.add_app_template_global(_label, _name)


def _active_establishments() -> list[Establishment]:
    return list(
        db_session().scalars(
            select(Establishment).where(Establishment.active.is_(True)).order_by(Establishment.code)
        )
    )


def _my_establishments() -> list[Establishment]:
    ids = establishment_ids(current_user)
    return [e for e in _active_establishments() if ids is None or e.id in ids]


def _transfer(transfer_id: int) -> Any:
    try:
        return services.get_transfer(transfer_id, current_user)
    except NotFound:
        abort(404)


# --------------------------------------------------------------------------------------------
# The queue
# --------------------------------------------------------------------------------------------


@bp.get("/")
@permission_required("transfers.view")
def index() -> Any:
    status = request.args.get("status", "active")
    if status not in (*machine.STATUSES, "active", "all"):
        status = "active"
    kind = request.args.get("kind", "")
    kind = kind if kind in KIND else ""
    direction = request.args.get("direction", "")
    direction = direction if direction in ("in", "out") else ""
    mine = _my_establishments()
    est_code = request.args.get("establishment", "")
    est = next((e for e in mine if e.code == est_code), None)
    # a registration number has digits and dashes only: anything else (NUL…) is dropped
    rn = re.sub(r"[^0-9A-Za-z-]", "", ascii_digits(request.args.get("q", "")))[:20]
    page = page_number(request.args.get("page"))
    filters = services.Filters(
        status="" if status == "all" else status,
        kind=kind,
        direction=direction,
        establishment_id=est.id if est else None,
        registration_number=rn,
    )
    rows, total = services.list_transfers(current_user, filters, page, PER_PAGE)
    return render_template(
        "transfers/index.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        status=status,
        kind=kind,
        direction=direction,
        est=est,
        establishments=mine,
        q=rn,
        statuses=machine.STATUSES,
        figures=services.dashboard_figures(current_user),
    )


# --------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------


def _request_form() -> forms.RequestForm:
    form = forms.RequestForm()
    form.destination.choices = [("", _("Return to the origin (court, hospital)"))] + [
        (e.code, f"{e.code} — {e.name(_lang())}") for e in _active_establishments()
    ]
    return form


def _lang() -> str:
    from core.i18n import current_language

    return current_language()


@bp.route("/new", methods=["GET", "POST"])
@permission_required("transfers.request")
def new() -> Any:
    form = _request_form()
    if request.method == "GET" and request.args.get("rn"):
        form.detainee.data = ascii_digits(request.args["rn"])[:20]
    status = 200
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        try:
            det = get_detainee(form.detainee.data, current_user)
            data = {
                "kind": form.kind.data,
                "destination": form.destination.data,
                "place": form.place.data,
                "reason": form.reason.data,
                "reason_text": form.reason_text.data,
                "planned_for": form.planned_for.data,
                "note": form.note.data,
            }
            transfer = services.request_transfer(det, data, current_user)
        except Blocked as exc:
            db_session().rollback()
            return render_template("transfers/new.html", form=form, blockers=exc.blockers), 422
        except DomainError as exc:
            db_session().rollback()
            if exc.code == "detainee_not_found":
                form.detainee.errors = [str(exc.message)]
            apply_errors(form, exc)
            status = 422
        else:
            target = url_for("transfers.show", transfer_id=transfer.id)
            complete(form, target)
            db_session().commit()
            flash(_("Transfer requested."), "success")
            return redirect(target)
    elif request.method == "POST":
        status = 422
    return render_template("transfers/new.html", form=form, blockers=[]), status


# --------------------------------------------------------------------------------------------
# A transfer
# --------------------------------------------------------------------------------------------


def _page_context(transfer: Any, action_forms: dict[str, Any] | None = None) -> dict[str, Any]:
    found = services.blockers(transfer, current_user)
    actions = services.allowed_actions(current_user, transfer)
    made = dict(action_forms or {})
    for action in actions:
        made.setdefault(action, forms.ACTION_FORMS[action](prefix=action))
    can_override = (
        transfer.is_active
        and has_permission(current_user, "transfers.override")
        and services.on_side(current_user, transfer, "origin")
        and any(b.overridable for b in services.standing(transfer, found))
    )
    if can_override:
        made.setdefault("override", forms.ReasonForm(prefix="override"))
    can_video = (
        transfer.kind.value == "court"
        and transfer.status.value in ("requested", "approved", "accepted", "scheduled")
        and has_permission(current_user, "transfers.hearings")
        and services.may(current_user, "cancel", transfer)
    )
    if can_video:
        made.setdefault("video", forms.VideoForm(prefix="video"))
    return {
        "t": transfer,
        "blockers": services.standing(transfer, found),
        "actions": actions,
        "action_forms": made,
        "can_override": can_override,
        "can_video": can_video,
        "can_escort": has_permission(current_user, "transfers.escort")
        and services.on_side(current_user, transfer, "origin")
        and transfer.is_active,
        "occupancy": services.destination_occupancy(transfer, current_user),
        "escort": services.escort_record(transfer),
        "health": services.escort_health(transfer.detainee),
    }


@bp.get("/<int:transfer_id>")
@permission_required("transfers.view")
def show(transfer_id: int) -> Any:
    transfer = _transfer(transfer_id)
    return render_template("transfers/show.html", **_page_context(transfer))


STEP_CALLS = {
    "approve": lambda t, u, f: services.approve(
        t,
        u,
        judicial_authorisation=f.judicial_authorisation.data,
        override_reason=f.override_reason.data,
    ),
    "accept": lambda t, u, f: services.accept(t, u, note=f.note.data),
    "refuse": lambda t, u, f: services.refuse(t, u, reason=f.reason.data, note=f.note.data),
    "schedule": lambda t, u, f: services.schedule(
        t, u, date=f.date.data, escort=f.escort.data, vehicle=f.vehicle.data
    ),
    "depart": lambda t, u, f: services.depart(t, u),
    "complete": lambda t, u, f: services.complete(t, u),
    "cancel": lambda t, u, f: services.cancel(t, u, reason=f.reason.data),
    "override": lambda t, u, f: services.override(t, u, reason=f.reason.data),
    "video": lambda t, u, f: services.hold_by_video(
        t,
        u,
        {
            k: v
            for k, v in {
                "court": f.court.data,
                "hearing_on": f.hearing_on.data,
                "case_reference": f.case_reference.data,
                "escort_hours": f.escort_hours.data,
            }.items()
            if v not in (None, "")
        },
    ),
}


def _done_message(action: str) -> str:
    return {
        "approve": _("Transfer approved."),
        "accept": _("Transfer accepted."),
        "refuse": _("Transfer refused."),
        "schedule": _("Transfer scheduled."),
        "depart": _("Departure recorded."),
        "complete": _("Transfer completed."),
        "cancel": _("Transfer cancelled."),
        "override": _("Blockers overridden."),
        "video": _("Hearing by video link recorded: no move."),
    }[action]


@bp.post("/<int:transfer_id>/<action>")
@permission_required("transfers.view")
def step(transfer_id: int, action: str) -> Any:
    if action not in STEP_CALLS:
        abort(404)
    transfer = _transfer(transfer_id)
    needed = {"override": "transfers.override", "video": "transfers.hearings"}.get(action)
    permission = needed or machine.TRANSITIONS[action].permission
    if not has_permission(current_user, permission):
        abort(403)
    form = forms.ACTION_FORMS[action](prefix=action)
    if form.validate_on_submit():
        try:
            STEP_CALLS[action](transfer, current_user, form)
        except DomainError as exc:
            db_session().rollback()
            if exc.status == 403:
                abort(403)
            apply_errors(form, exc)
            transfer = _transfer(transfer_id)
            context = _page_context(transfer, {action: form})
            if isinstance(exc, Blocked):
                context["blockers"] = exc.blockers
            return render_template("transfers/show.html", **context), exc.status
        db_session().commit()
        flash(_done_message(action), "success")
        return redirect(url_for("transfers.show", transfer_id=transfer_id))
    return render_template("transfers/show.html", **_page_context(transfer, {action: form})), 422


# --------------------------------------------------------------------------------------------
# Escort record and printable papers
# --------------------------------------------------------------------------------------------


@bp.route("/<int:transfer_id>/escort", methods=["GET", "POST"])
@permission_required("transfers.escort")
def escort(transfer_id: int) -> Any:
    transfer = _transfer(transfer_id)
    if not services.on_side(current_user, transfer, "origin"):
        abort(403)
    record = services.escort_record(transfer)
    form = forms.EscortForm(obj=record)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_escort(transfer, form.data, current_user)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            status = 422
        else:
            db_session().commit()
            flash(_("Escort record saved."), "success")
            return redirect(url_for("transfers.show", transfer_id=transfer_id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "transfers/escort.html",
        t=transfer,
        form=form,
        health=services.escort_health(transfer.detainee),
    ), status


def _print(template: str, transfer_id: int) -> Any:
    transfer = _transfer(transfer_id)
    # ``?paper=``, not ``?lang=`` (which would switch the whole portal's language)
    lang = request.args.get("paper", "")
    context = {
        "t": transfer,
        "escort": services.escort_record(transfer),
        "health": services.escort_health(transfer.detainee),
        "flags": services.FLAGS,
    }
    if lang in PRINT_LANGUAGES:
        with force_locale(lang):
            return render_template(template, print_lang=lang, **context)
    return render_template(template, print_lang="", **context)


@bp.get("/<int:transfer_id>/order")
@permission_required("transfers.view")
def order(transfer_id: int) -> Any:
    return _print("transfers/order.html", transfer_id)


@bp.get("/<int:transfer_id>/escort-sheet")
@permission_required("transfers.view")
def escort_sheet(transfer_id: int) -> Any:
    return _print("transfers/escort_sheet.html", transfer_id)


# --------------------------------------------------------------------------------------------
# Bulk transfers
# --------------------------------------------------------------------------------------------


@bp.route("/bulk", methods=["GET", "POST"])
@permission_required("transfers.request")
def bulk() -> Any:
    form = forms.BulkForm()
    lang = _lang()
    form.origin.choices = [(e.code, f"{e.code} — {e.name(lang)}") for e in _my_establishments()]
    form.destination.choices = [
        (e.code, f"{e.code} — {e.name(lang)}") for e in _active_establishments()
    ]
    status = 200
    if form.validate_on_submit():
        replay = claim(form, current_user)
        if replay is not None:
            return replay
        numbers = services.parse_numbers(form.numbers.data)
        try:
            batch = services.create_batch(
                form.origin.data,
                form.destination.data,
                numbers,
                {"reason": form.reason.data, "reason_text": form.reason_text.data},
                current_user,
            )
            if len(numbers) <= services.SYNC_LIMIT:
                services.process_batch(batch, current_user)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            status = 422
        else:
            target = url_for("transfers.bulk_summary", batch_id=batch.id)
            complete(form, target)
            db_session().commit()
            if not batch.done:  # the worker goes on with it, a chunk at a time
                get_queue().enqueue("transfers.bulk")
            return redirect(target)
    elif request.method == "POST":
        status = 422
    return render_template("transfers/bulk.html", form=form), status


@bp.route("/bulk/<int:batch_id>", methods=["GET", "POST"])
@permission_required("transfers.view")
def bulk_summary(batch_id: int) -> Any:
    from plugins.transfers.models import BulkBatch, Transfer

    batch = db_session().get(BulkBatch, batch_id) if batch_id < 2**31 else None
    if batch is None or not (services.on_side(current_user, _Sides(batch), "either")):
        abort(404)
    approval = None
    form = forms.BulkApproveForm()
    status = 200
    can_approve = has_permission(current_user, "transfers.approve") and services.on_side(
        current_user, _Sides(batch), "origin"
    )
    if request.method == "POST":
        if not can_approve:
            abort(403)
        if form.validate_on_submit():
            approval = services.bulk_approve(
                batch, current_user, judicial_authorisation=form.judicial_authorisation.data
            )
            db_session().commit()
            flash(
                ngettext(
                    "%(num)d transfer approved.",
                    "%(num)d transfers approved.",
                    len(approval.approved),
                ),
                "success",
            )
        else:
            status = 422
    rows = list(
        db_session()
        .scalars(
            select(Transfer).where(Transfer.bulk_id == batch.id).order_by(Transfer.id).limit(500)
        )
        .unique()
    )
    waiting = any(t.status.value == "requested" for t in rows)
    return render_template(
        "transfers/bulk_summary.html",
        batch=batch,
        rows=rows,
        form=form,
        approval=approval,
        can_approve=can_approve and waiting,
    ), status


class _Sides:
    """A batch seen as its two establishments (for ``services.on_side``)."""

    def __init__(self, batch: Any) -> None:
        self.origin_id = batch.origin_id
        self.destination_id = batch.destination_id


# --------------------------------------------------------------------------------------------
# Hearings by video link
# --------------------------------------------------------------------------------------------


@bp.route("/hearings", methods=["GET", "POST"])
@permission_required("transfers.view")
def hearings() -> Any:
    mine = _my_establishments()
    est_code = request.args.get("establishment", "")
    est = next((e for e in mine if e.code == est_code), None)
    form = forms.HearingForm()
    status = 200
    can_record = has_permission(current_user, "transfers.hearings")
    if request.method == "POST":
        if not can_record:
            abort(403)
        if form.validate_on_submit():
            try:
                det = get_detainee(form.detainee.data, current_user)
                services.record_hearing(
                    det,
                    {
                        "court": form.court.data,
                        "hearing_on": form.hearing_on.data,
                        "case_reference": form.case_reference.data,
                        "escort_hours": form.escort_hours.data,
                    },
                    current_user,
                )
            except DomainError as exc:
                db_session().rollback()
                if exc.code == "detainee_not_found":
                    form.detainee.errors = [str(exc.message)]
                apply_errors(form, exc)
                status = 422
            else:
                db_session().commit()
                flash(_("Hearing by video link recorded: no move."), "success")
                return redirect(url_for("transfers.hearings", establishment=est_code or None))
        else:
            status = 422
    months = services.monthly_figures(current_user, est.id if est else None)
    return render_template(
        "transfers/hearings.html",
        form=form,
        can_record=can_record,
        months=months,
        est=est,
        establishments=mine,
        recent=services.recent_hearings(current_user),
    ), status
