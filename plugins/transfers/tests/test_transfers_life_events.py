"""A release is blocked while the detainee is on the road; otherwise it cancels the transfer
under way, as does a move made by other means."""

from __future__ import annotations

import pytest

from core.errors import Blocked
from core.principals import SYSTEM
from plugins.transfers.tests.helpers import OTHER, detainee, make_transfer, status_of


def test_a_detainee_in_transit_cannot_be_released(app, factories):
    from core.detainees.services import get_detainee, release

    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "in_transit")
    with app.app_context():
        with pytest.raises(Blocked) as exc:
            release(get_detainee(rn, SYSTEM), SYSTEM)
        assert exc.value.blockers[0].code == "in_transit"
    assert status_of(app, tid) == "in_transit"


def test_a_release_cancels_the_transfer_waiting(app, factories):
    from core.db import session
    from core.detainees.services import get_detainee, release

    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "approved")
    with app.app_context():
        release(get_detainee(rn, SYSTEM), SYSTEM)
        session().commit()
    assert status_of(app, tid) == "cancelled"


def test_a_move_by_other_means_cancels_the_transfer_under_way(app, factories):
    from core.db import session
    from core.detainees.services import get_detainee, move
    from core.establishments.services import get_by_code

    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "accepted")
    with app.app_context():
        move(get_detainee(rn, SYSTEM), get_by_code(OTHER, SYSTEM), SYSTEM)
        session().commit()
    assert status_of(app, tid) == "cancelled"


def test_the_completing_transfer_is_not_cancelled_by_its_own_move(app, factories):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "completed")
    assert status_of(app, tid) == "completed"
