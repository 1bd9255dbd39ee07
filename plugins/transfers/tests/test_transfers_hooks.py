"""The hooks transfers publishes and implements, each with a throwaway plugin: the escort
health section (``transfers_escort_health``), the complaints category, the profile panel."""

from __future__ import annotations

from typing import Any

import pytest

from core.contributions import EscortHealth
from core.plugins import PluginError, hookimpl
from plugins.transfers.tests.helpers import ORIGIN, detainee, make_transfer


class _Clinic:
    @hookimpl(optionalhook=True)
    def transfers_escort_health(self, detainee: Any) -> Any:
        return EscortHealth(False, needs="insulin at noon", decided_by="Dr Secret", module="clinic")


class _Silent:
    @hookimpl(optionalhook=True)
    def transfers_escort_health(self, detainee: Any) -> Any:
        return None


class _Wrong:
    @hookimpl(optionalhook=True)
    def transfers_escort_health(self, detainee: Any) -> Any:
        return {"fit": True}


def _app_with(make_app: Any, *plugins: Any) -> Any:
    from core.plugins import get_plugin_manager

    other = make_app(rolled_back=True)
    with other.app_context():
        for i, plugin in enumerate(plugins):
            get_plugin_manager().register(plugin, name=f"clinic{i}")
    return other


def test_transfers_escort_health_fills_the_escort_sheet_with_fit_and_needs_only(
    app, factories, make_app
):
    from core.testing import TEST_PASSWORD

    tid = make_transfer(app, detainee(app, factories))
    other = _app_with(make_app, _Clinic(), _Silent())
    with other.app_context():
        officer = factories.user("transfers_officer", (ORIGIN,))
    client = other.test_client()
    client.post("/login", data={"username": officer.username, "password": TEST_PASSWORD})
    sheet = client.get(f"/transfers/{tid}/escort-sheet?paper=fr").get_data(as_text=True)
    assert "insulin at noon" in sheet
    assert "Dr Secret" not in sheet
    section = sheet.split('data-testid="escort-health">')[1].split("</dd>")[0]
    assert "Inapte au transport" in section
    # without any answer: "no decision"
    plain = app.test_client()
    plain.post("/login", data={"username": officer.username, "password": TEST_PASSWORD})
    page = plain.get(f"/transfers/{tid}/escort-sheet?paper=fr").get_data(as_text=True)
    assert "insulin at noon" not in page


def test_transfers_escort_health_answers_must_be_escort_health(app, factories, make_app):
    from plugins.transfers import services

    rn = detainee(app, factories)
    other = _app_with(make_app, _Wrong())
    from core.detainees.services import get_detainee
    from core.principals import SYSTEM

    with other.app_context(), pytest.raises(PluginError):
        services.escort_health(get_detainee(rn, SYSTEM))


def test_complaints_categories_offers_the_transfers_category():
    import plugins.transfers as transfers

    (category,) = transfers.complaints_categories()
    assert (category.code, category.module, category.office) == (
        "transfers.transfer",
        "transfers",
        "transfers_officer",
    )


def test_the_hookspec_is_published(app):
    from core.plugins import get_plugin_manager

    with app.app_context():
        assert hasattr(get_plugin_manager().hook, "transfers_escort_health")


def test_plugin_periodic_tasks_declares_the_bulk_worker(app):
    from core.tasks import get_queue

    task = get_queue(app).periodic["transfers.bulk"]
    assert task.every.total_seconds() == 60
