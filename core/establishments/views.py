"""Establishment pages: list with occupancy, create, edit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.errors import DomainError, NotFound
from core.establishments import services
from core.establishments.forms import KIND_CHOICES, EstablishmentForm
from core.portal.access import apply_errors, permission_required

bp = Blueprint("establishments", __name__, url_prefix="/establishments")


@bp.get("/")
@permission_required("establishments.view")
def index() -> Any:
    rows = services.list_establishments(current_user)
    return render_template("establishments/index.html", rows=rows, kinds=dict(KIND_CHOICES))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("establishments.manage")
def new() -> Any:
    form = EstablishmentForm()
    if form.validate_on_submit():
        try:
            services.create_establishment(
                code=form.code.data or "",
                name=form.name.data or "",
                name_ar=form.name_ar.data or "",
                kind=form.kind.data or "",
                capacity=form.capacity.data or 0,
                region=form.region.data or "",
                city=form.city.data or "",
                city_ar=form.city_ar.data or "",
                actor=current_user,
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("establishments/form.html", form=form, est=None), 422
        db_session().commit()
        flash(_("The establishment was created."), "success")
        return redirect(url_for("establishments.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("establishments/form.html", form=form, est=None), status


@bp.route("/<code>", methods=["GET", "POST"])
@permission_required("establishments.manage")
def edit(code: str) -> Any:
    try:
        est = services.get_by_code(code, current_user)
    except NotFound:
        abort(404)
    form = EstablishmentForm()
    if request.method == "GET":
        form.code.data, form.name.data, form.name_ar.data = est.code, est.name_fr, est.name_ar
        form.kind.data, form.region.data, form.city.data = est.kind.value, est.region, est.city
        form.capacity.data, form.active.data = est.capacity, est.active
        form.city_ar.data = est.city_ar
    form.code.data = est.code
    if form.validate_on_submit():
        try:
            services.update_establishment(
                est,
                current_user,
                name_fr=form.name.data or "",
                name_ar=form.name_ar.data or "",
                kind=form.kind.data,
                capacity=form.capacity.data,
                region=form.region.data or "",
                city=form.city.data or "",
                city_ar=form.city_ar.data or "",
                active=bool(form.active.data),
            )
        except DomainError as exc:
            db_session().rollback()
            apply_errors(form, exc)
            return render_template("establishments/form.html", form=form, est=est), 422
        db_session().commit()
        flash(_("The establishment was saved."), "success")
        return redirect(url_for("establishments.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("establishments/form.html", form=form, est=est), status
