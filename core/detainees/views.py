"""Detainee pages: search, admission, profile (assembled from plugin panels), edit, release."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.contributions import Panel
from core.db import session as db_session
from core.detainees import services
from core.detainees.forms import DetaineeForm, ReleaseForm
from core.errors import DomainError, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.establishments.services import list_establishments
from core.forms import claim, complete
from core.i18n import current_language
from core.plugins import collect
from core.portal.access import apply_errors, permission_required
from core.portal.fragments import Fragments
from core.query_args import page_number
from core.scoping import scope
from core.vetoes import may_override

bp = Blueprint("detainees", __name__, url_prefix="/detainees")
PER_PAGE = 20


def _load(registration_number: str, *, with_placements: bool = False) -> Any:
    try:
        return services.get_detainee(
            registration_number, current_user, with_placements=with_placements
        )
    except NotFound:
        abort(404)


@bp.get("/")
@permission_required("detainees.view")
def index() -> Any:
    q = request.args.get("q", "").strip()[:10_000]
    establishment = request.args.get("establishment") or None
    page = page_number(request.args.get("page"))
    q_error = None
    status = 200
    try:
        result = services.search(
            current_user, q, establishment=establishment, page=page, per_page=PER_PAGE
        )
    except NotFound:
        abort(404)
    except ValidationFailed as exc:  # a query past the caps: said beside the search box
        q_error = str(exc.fields.get("q", exc.message))
        status = 422
        result = services.SearchPage([], 0, 1, PER_PAGE)
    # the choices only (no population counts: they would scan every detainee on each search)
    ests = list(
        db_session().scalars(
            scope(select(Establishment), Establishment.id, current_user).order_by(
                Establishment.code
            )
        )
    )
    return render_template(
        "detainees/index.html",
        result=result,
        q=q,
        q_error=q_error,
        establishment=establishment,
        establishments=ests,
    ), status


def _establishment_choices() -> list[tuple[str, str]]:
    lang = current_language()
    return [
        (o.establishment.code, f"{o.establishment.code} — {o.establishment.name(lang)}")
        for o in list_establishments(current_user, include_inactive=False)
    ]


@bp.route("/new", methods=["GET", "POST"])
@permission_required("detainees.admit")
def new() -> Any:
    form = DetaineeForm()
    form.establishment.choices = _establishment_choices()
    if form.validate_on_submit():
        data = {
            k: v
            for k, v in form.data.items()
            if k not in ("submit", "csrf_token", "confirm_not_duplicate", "form_token")
        }
        replay = claim(form, current_user)  # a double-click: the first admission's profile
        if replay is not None:
            return replay
        try:
            det = services.admit(
                data, current_user, warn_namesakes=not form.confirm_not_duplicate.data
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("detainees/form.html", form=form, det=None), exc.status
        complete(form, url_for("detainees.profile", registration_number=det.registration_number))
        db_session().commit()
        flash(
            _("Detainee admitted with registration number %(rn)s.", rn=det.registration_number),
            "success",
        )
        return redirect(url_for("detainees.profile", registration_number=det.registration_number))
    status = 422 if request.method == "POST" else 200
    return render_template("detainees/form.html", form=form, det=None), status


@bp.get("/<registration_number>")
@permission_required("detainees.view")
def profile(registration_number: str) -> Any:
    det = _load(registration_number, with_placements=True)
    fragments = Fragments()  # the template context, computed once for every panel
    # the user behind the proxy: each panel reads it often (every read through
    # ``current_user`` looks the user up again)
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    panels = [
        (panel, render_panel(panel, det, fragments))
        for panel in collect("detainee_profile_panels", detainee=det, user=user)
    ]
    # rendered before the commit: what the template loads lazily is read in this transaction
    # (after it, a second one would open and end in a rollback at teardown)
    page = fragments.page("detainees/profile.html", det=det, panels=panels)
    db_session().commit()  # panels may audit sensitive reads
    return page


def render_panel(panel: Panel, det: Any, fragments: Fragments) -> Markup:
    """A plugin's profile section: like a dashboard widget, its template sees its ``context``
    keys as variables, plus ``panel`` and ``det``."""
    return fragments.render(panel.template, **panel.context, panel=panel, det=det)


@bp.route("/<registration_number>/edit", methods=["GET", "POST"])
@permission_required("detainees.edit")
def edit(registration_number: str) -> Any:
    det = _load(registration_number)
    form = DetaineeForm(obj=det if request.method == "GET" else None)
    form.establishment.choices = [(det.establishment.code, det.establishment.code)]
    if request.method == "GET":
        form.sex.data = det.sex.value
        form.legal_status.data = det.legal_status.value
    form.establishment.data = det.establishment.code
    if form.validate_on_submit():
        data = {
            k: v for k, v in form.data.items() if k not in ("submit", "csrf_token", "establishment")
        }
        try:
            services.update_detainee(det, data, current_user)
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("detainees/form.html", form=form, det=det), exc.status
        db_session().commit()
        flash(_("The record was saved."), "success")
        return redirect(url_for("detainees.profile", registration_number=det.registration_number))
    status = 422 if request.method == "POST" else 200
    return render_template("detainees/form.html", form=form, det=det), status


@bp.route("/<registration_number>/release", methods=["GET", "POST"])
@permission_required("detainees.release")
def release(registration_number: str) -> Any:
    det = _load(registration_number)
    form = ReleaseForm()

    def page(status: int, blockers: list[Any] | None = None) -> Any:
        if blockers is None:
            blockers = services.release_blockers(det, current_user)
        return render_template(
            "detainees/release.html",
            det=det,
            form=form,
            blockers=blockers,
            may_override=may_override(current_user, blockers),
        ), status

    if request.method == "GET":
        return page(200)
    if not form.validate_on_submit():
        return page(422)
    try:
        services.release(
            det, current_user, note=form.note.data or "", override=bool(form.override.data)
        )
    except DomainError as exc:
        db_session().rollback()
        det = _load(registration_number)
        flash(str(exc.message), "error")
        return page(exc.status, list(getattr(exc, "blockers", None) or []))
    db_session().commit()
    flash(_("The detainee was released."), "success")
    return redirect(url_for("detainees.profile", registration_number=registration_number))
