"""The operator's page of the outbox: what is waiting, and the messages that failed for good,
each with its last error and a button to send it again once the channel is repaired."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from core.db import session
from core.notifications.services import failed_page, outbox_counts, retry_failed
from core.portal.access import permission_required
from core.query_args import page_number, query_int

bp = Blueprint("notifications", __name__, url_prefix="/admin/notifications")
PER_PAGE = 50


@bp.get("/")
@permission_required("notifications.manage")
def index() -> Any:
    page = page_number(request.args.get("page"))
    rows, total = failed_page(page, PER_PAGE)
    return render_template(
        "notifications/index.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        counts=outbox_counts(),
    )


@bp.post("/retry")
@permission_required("notifications.manage")
def retry() -> Any:
    ids: list[int] = []
    for raw in request.form.getlist("message")[:PER_PAGE]:
        try:
            ids.append(query_int(raw, default=0, minimum=1, maximum=2**31 - 1))
        except ValueError:
            continue
    count = retry_failed(ids, current_user) if ids else 0
    session().commit()
    if count:
        flash(
            ngettext(
                "%(num)d notification will be sent again.",
                "%(num)d notifications will be sent again.",
                count,
            ),
            "success",
        )
    else:
        flash(_("No failed notification was chosen."), "warning")
    return redirect(url_for("notifications.index"))
