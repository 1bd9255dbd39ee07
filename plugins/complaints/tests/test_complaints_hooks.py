"""The hooks complaints publishes, each tested with a throwaway plugin: what it answers changes
what the app does (categories offered, routing, who a family member may complain about)."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale

import plugins.complaints as complaints_plugin
from core.contributions import ComplaintCategory
from core.db import session
from core.plugins import PluginError, hookimpl
from plugins.complaints import services
from plugins.complaints.models import Complaint

from .helpers import file_api, token


class HealthStandIn:
    """A throwaway module answering ``complaints_categories`` (as health will)."""

    PLUGIN_NAME = "throwaway"

    @hookimpl(optionalhook=True)
    def complaints_categories(self) -> list[Any]:
        return [ComplaintCategory("throwaway.care", "Soins médicaux", "throwaway", "doctor", 55)]


class PairStandIn:
    """A module still answering with an old ``(code, label)`` pair: not a category."""

    PLUGIN_NAME = "pairs"

    @hookimpl(optionalhook=True)
    def complaints_categories(self) -> list[Any]:
        return [("pairs.old", "Ancienne catégorie")]


class FamilyStandIn:
    """A throwaway module answering ``complaints_author_detainees`` with one detainee."""

    PLUGIN_NAME = "family"

    def __init__(self, rn: str) -> None:
        self.rn = rn

    @hookimpl(optionalhook=True)
    def complaints_author_detainees(self, user: Any) -> list[Any]:
        from core.detainees.services import get_detainee
        from core.principals import SYSTEM

        return [get_detainee(self.rn, SYSTEM)] if "visitor" in user.roles else []


def test_complaints_categories_from_a_throwaway_plugin_are_offered_and_route(
    app, make_app, factories
) -> None:
    other = make_app(plugins=[complaints_plugin, HealthStandIn()], rolled_back=True)
    with other.test_request_context("/"), force_locale("fr"):
        cats = {c.code: c for c in services.all_categories()}
        assert cats["throwaway.care"].office == "doctor"
        assert set(cats) == {
            "treatment",
            "living_conditions",
            "food",
            "discrimination",
            "other",
            "throwaway.care",
        }
        assert [c.code for c in services.all_categories()][:4] == [
            "treatment",
            "living_conditions",
            "food",
            "discrimination",
        ]
    with app.app_context():
        det = factories.detainee("EST-A")
        officer = factories.user("complaints_officer", ("EST-A",))
        doctor = factories.user("doctor", ("EST-A",))
    resp = other.test_client().post(
        "/api/v1/complaints",
        json={
            "category": "throwaway.care",
            "subject": "Dwa",
            "body": "Ma3titoch dwa",
            "detainee": det.registration_number,
            "channel": "oral",
        },
        headers=token(other, officer),
    )
    assert resp.status_code == 201, resp.json
    with other.app_context():
        c = session().query(Complaint).filter_by(reference=resp.json["reference"]).one()
        assert c.office == "doctor"  # routed to the office the category names
    # the doctor of the establishment sees it (routed to the doctors' office)
    seen = other.test_client().get(
        f"/api/v1/complaints/{resp.json['reference']}", headers=token(other, doctor)
    )
    assert seen.status_code == 200
    # without the throwaway plugin the category is not offered
    assert (
        file_api(
            app,
            officer,
            category="throwaway.care",
            detainee=det.registration_number,
            channel="oral",
        ).status_code
        == 422
    )


def test_complaints_author_detainees_from_a_throwaway_plugin_decides_who_a_family_may_name(
    app, make_app, factories
) -> None:
    with app.app_context():
        det = factories.detainee("EST-A")
        visitor = factories.visitor()
    alone = make_app(plugins=[complaints_plugin], rolled_back=True)
    refused = alone.test_client().post(
        "/api/v1/complaints",
        json={"category": "food", "subject": "s", "body": "b"},
        headers=token(alone, visitor),
    )
    assert refused.status_code == 422  # nobody answers: a family member may name nobody
    linked = make_app(
        plugins=[complaints_plugin, FamilyStandIn(det.registration_number)], rolled_back=True
    )
    ok = linked.test_client().post(
        "/api/v1/complaints",
        json={"category": "food", "subject": "s", "body": "b"},
        headers=token(linked, visitor),
    )
    assert ok.status_code == 201, ok.json  # the only linked detainee is taken


def test_a_typo_in_an_implementation_of_a_complaints_hook_stops_start_up(make_app) -> None:
    class Typo:
        PLUGIN_NAME = "typo"

        @hookimpl(optionalhook=True)
        def complaints_category(self) -> list[Any]:
            return []

    import pytest

    with pytest.raises(PluginError, match="complaints_category"):
        make_app(plugins=[complaints_plugin, Typo()])


def test_only_complaint_category_values_are_categories(app, make_app) -> None:
    other = make_app(plugins=[complaints_plugin, PairStandIn(), HealthStandIn()], rolled_back=True)
    with other.test_request_context("/"), force_locale("fr"):
        cats = {c.code: c for c in services.all_categories()}
        assert "pairs.old" not in cats and "throwaway.care" in cats
