"""Shared set-up of remote purchasing's tests. The fixtures (app, client, login_as,
api_headers, factories, make_app, fresh_app…) come from Idmaj's pytest plugin (``pytest11``
entry point of the installed ``idmaj``); the test app loads the installed entry points: the
core, this package, and Idmaj's visits (the ``visits.family_links`` port) and funds (the
``funds.accounts`` port). This package imports nothing of them: families are linked through
the visits module's public API (interface.md: ``POST /visitors/me/relations``, approved by
``POST /visits/relations/{id}/approve``)."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest
from idmaj_purchasing.tests_support import add_products, link_through_visits

# the core's browser fixtures: Idmaj's root conftest registers them for its own tree (then they
# are imported already, and a second session "browser" would start a second Playwright inside
# the first one's loop); this package's tests, run on their own, take them from here
if "core.testing_browser" not in sys.modules:
    from core.testing_browser import browser, live_app, live_server  # noqa: F401


@pytest.fixture
def shop(app: Any, factories: Any) -> SimpleNamespace:
    """EST-A with a shop, a detainee, a linked family, a canteen manager; EST-B likewise."""
    with app.app_context():
        det = factories.detainee("EST-A")
        other = factories.detainee("EST-B", first_name="Ahmed", national_id="ZZ112233")
        family = factories.visitor(full_name="Fatima Benali")
        stranger = factories.visitor(full_name="Autre Famille")
        officer = factories.user("visits_officer", ("EST-A",))
        officer_b = factories.user("visits_officer", ("EST-B",))
        manager = factories.user("canteen_manager", ("EST-A",))
        manager_b = factories.user("canteen_manager", ("EST-B",))
        products = add_products("EST-A")
        products_b = add_products("EST-B")
    link_through_visits(app, family, det, officer)
    link_through_visits(app, stranger, other, officer_b)
    return SimpleNamespace(
        det=det,
        rn=det.registration_number,
        other=other,
        family=family,
        stranger=stranger,
        manager=manager,
        manager_b=manager_b,
        products=products,
        products_b=products_b,
    )
