"""The CSV import page: upload a file, admit its good rows, list its bad lines."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from core.db import session as db_session
from core.detainees import importer
from core.detainees.forms import ImportForm
from core.errors import DomainError
from core.establishments.services import list_establishments
from core.portal.access import apply_errors, permission_required

bp = Blueprint("detainee_import", __name__, url_prefix="/detainees")


def _page(form: ImportForm, result: importer.ImportResult | None = None, status: int = 200) -> Any:
    codes = [
        o.establishment.code for o in list_establishments(current_user, include_inactive=False)
    ]
    return (
        render_template(
            "detainees/import.html",
            form=form,
            result=result,
            columns=",".join(importer.COLUMNS),
            establishments=codes,
        ),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@permission_required("detainees.import")
def upload() -> Any:
    form = ImportForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, status=422)
    upload_file = form.file.data
    if upload_file is None or not getattr(upload_file, "filename", ""):
        form.file.errors = [_("Choose a CSV file.")]
        return _page(form, status=422)
    try:
        parsed = importer.parse(upload_file.read())
        result = importer.import_rows(parsed, current_user)
    except DomainError as exc:
        db_session().rollback()
        apply_errors(form, exc)
        return _page(form, status=exc.status)
    return _page(form, result)
