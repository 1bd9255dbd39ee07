"""A deadlock or a lock timeout is answered 503 "try again", with nothing written — not 500."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Blueprint
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.api.toolkit import endpoint
from core.db import session
from core.establishments.models import Establishment
from core.establishments.services import create_establishment
from core.plugins import hookimpl
from core.principals import SYSTEM
from core.testing import TestDatabase, build_migrated_app


class _Deadlock(Exception):
    sqlstate = "40P01"


class BusyPlugin:
    """Writes a detainee, then meets a database conflict before the end of the request."""

    def __init__(self, orig: Exception) -> None:
        self.orig = orig

    @hookimpl
    def plugin_blueprints(self):
        bp = Blueprint("busy_api", __name__, url_prefix="/api/v1/busy")
        page = Blueprint("busy", __name__, url_prefix="/busy")
        orig = self.orig

        def write_then_fail():
            create_establishment(
                code="EST-BUSY", name="Busy", kind="local_prison", capacity=10, actor=SYSTEM
            )
            session().flush()
            raise OperationalError("UPDATE something", {}, orig)

        @bp.post("/")
        @endpoint("busy", auth="none")
        def api_busy():
            write_then_fail()

        @page.get("/")
        def page_busy():
            write_then_fail()

        return [bp, page]


@pytest.mark.parametrize(
    "orig",
    [_Deadlock("deadlock detected"), sqlite3.OperationalError("database is locked")],
    ids=["postgresql-deadlock", "sqlite-locked"],
)
def test_transient_conflicts_answer_503_and_write_nothing(tmp_path, orig):
    database = TestDatabase(tmp_path)
    app = build_migrated_app(database.url, tmp_path, plugins=[("busy", BusyPlugin(orig))])
    client = app.test_client()
    resp = client.post("/api/v1/busy/")
    assert resp.status_code == 503
    assert resp.json["error"]["code"] == "busy_retry"
    assert resp.headers["Retry-After"] == "1"
    page = client.get("/busy/")
    assert page.status_code == 503
    with app.app_context():
        count = select(func.count()).select_from(Establishment)
        assert session().scalar(count.where(Establishment.code == "EST-BUSY")) == 0
    app.extensions["idmaj.db"].dispose()
    database.drop()
