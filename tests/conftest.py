"""The shared fixtures come from the idmaj pytest plugin (core/testing.py, entry point pytest11);
the few the core's own tests share are here."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import session
from core.detainees import services as detainees
from core.principals import SYSTEM


@pytest.fixture
def trail(app: Any, factories: Any) -> dict[str, str]:
    """An audit trail to read (the audit page and its API): two clerks at two establishments
    each admit one detainee, then clerk A edits hers. Returns the registration numbers by
    establishment code."""
    with app.app_context():
        clerk_a = factories.user("registry_clerk", ("EST-A",), username="clerka")
        clerk_b = factories.user("registry_clerk", ("EST-B",), username="clerkb")
        dets = {}
        for clerk, code, name in ((clerk_a, "EST-A", "Alaoui"), (clerk_b, "EST-B", "Bennani")):
            dets[code] = detainees.admit(
                {
                    "first_name": "Said",
                    "last_name": name,
                    "birth_date": "1975-02-03",
                    "sex": "M",
                    "legal_status": "convicted",
                    "establishment": code,
                },
                clerk,
            ).registration_number
            session().commit()
        detainees.update_detainee(
            detainees.get_detainee(dets["EST-A"], SYSTEM), {"legal_status": "pretrial"}, clerk_a
        )
        session().commit()
    return dets
