"""The portal's home pages: the public landing, the staff dashboard, language choice."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup

from core.config import LANGUAGES
from core.contributions import Widget
from core.db import session as db_session
from core.establishments.services import list_establishments
from core.i18n import SESSION_KEY
from core.plugins import collect
from core.portal.access import permission_required
from core.portal.fragments import Fragments
from core.portal.navigation import navigation
from core.redirects import safe_next as redirect_target

bp = Blueprint("portal", __name__)


@bp.get("/")
def home() -> Any:
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("portal.dashboard"))
    user = current_user if current_user.is_authenticated else None
    return render_template("portal/home.html", services=navigation(user, "public"))


@bp.get("/dashboard")
@permission_required("portal.dashboard")
def dashboard() -> Any:
    fragments = Fragments()  # the template context, computed once for every widget
    widgets = [
        (w, render_widget(w, fragments))
        for w in collect("portal_dashboard_widgets", user=current_user)
    ]
    occupancy = list_establishments(current_user)
    totals = {
        "population": sum(o.population for o in occupancy),
        "capacity": sum(o.establishment.capacity for o in occupancy),
    }
    return render_template(
        "portal/dashboard.html",
        widgets=widgets,
        occupancy=occupancy,
        totals=totals,
        shortcuts=navigation(current_user, "staff"),
    )


def render_widget(widget: Widget, fragments: Fragments) -> Markup:
    """A plugin's card: its template sees its ``context`` keys as variables, and ``w``."""
    return fragments.render(widget.template, **widget.context, w=widget, widget=widget)


def safe_next(target: str | None) -> str:
    """A local path to go back to after the switch: never another site, never ``?lang=``.

    The target is checked by :func:`core.redirects.safe_next` (the home page otherwise);
    ``lang`` is dropped from the query so the old explicit choice does not override the
    new one.
    """
    fallback = url_for("portal.home")
    target = redirect_target(target, fallback)
    if target == fallback:
        return fallback
    parts = urlsplit(target)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return parts.path + (f"?{query}" if query else "")


@bp.post("/language")
def choose_language() -> Any:
    """The language switcher: kept in the session, and saved as the user's preference."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    session[SESSION_KEY] = lang
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db_session().commit()
    return redirect(safe_next(request.form.get("next")))
