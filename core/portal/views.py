"""The portal's home pages: the public landing, the staff dashboard, language choice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from core.config import LANGUAGES
from core.db import session as db_session
from core.establishments.services import list_establishments
from core.plugins import collect
from core.portal.access import permission_required

bp = Blueprint("portal", __name__)


@bp.get("/")
def home() -> Any:
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("portal.dashboard"))
    return render_template("portal/home.html")


@bp.get("/dashboard")
@permission_required("portal.dashboard")
def dashboard() -> Any:
    widgets = collect("portal_dashboard_widgets", user=current_user)
    occupancy = list_establishments(current_user)
    return render_template("portal/dashboard.html", widgets=widgets, occupancy=occupancy)


@bp.post("/language")
def choose_language() -> Any:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db_session().commit()
    target = request.form.get("next") or url_for("portal.home")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("portal.home")
    return redirect(target)
