"""Appeals reviewed at the regional or central level: an appeal goes to the regional reviewers
of the complaint's establishment (a plugin role assigned the establishments of a region) when
any exist, else to the central level; the regional reviewer answers it or refers it up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import session
from core.notifications.models import OutboxMessage
from plugins.complaints import services
from plugins.complaints.models import AppealLevel, EntryKind, Status
from plugins.complaints.permissions import REGIONAL_REVIEWER
from plugins.complaints.services.notify import central_reviewers

from .helpers import family, file_api, token
from .test_complaints_pages import _token, signed_in


def _answer_and_appeal(app, factories, visitor, ref: str) -> None:
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    c = app.test_client()
    done = c.post(
        f"/api/v1/complaints/{ref}/answer",
        json={"body": "Réponse.", "outcome": "unfounded"},
        headers=token(app, officer),
    )
    assert done.status_code == 200, done.json
    appealed = c.post(
        f"/api/v1/complaints/{ref}/appeal",
        json={"reason": "Je conteste."},
        headers=token(app, visitor),
    )
    assert appealed.status_code == 200, appealed.json


@pytest.fixture
def region(app, factories):
    """A regional reviewer of EST-A and EST-D (the region), another of EST-B, a central
    administrator; a family's complaint at EST-A, answered then appealed."""
    with app.app_context():
        ours = factories.user(REGIONAL_REVIEWER, ("EST-A", "EST-D"))
        theirs = factories.user(REGIONAL_REVIEWER, ("EST-B",))
        central = factories.user("central_admin")
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    return ours, theirs, central, visitor, ref


def _read(app, user, ref: str) -> int:
    return app.test_client().get(f"/api/v1/complaints/{ref}", headers=token(app, user)).status_code


def test_the_regional_reviewer_sees_only_appealed_complaints_of_the_region(
    app, factories, region
) -> None:
    ours, theirs, central, visitor, ref = region
    # not appealed yet: the region has nothing to do with it
    assert _read(app, ours, ref) == 404
    _answer_and_appeal(app, factories, visitor, ref)
    assert _read(app, ours, ref) == 200
    assert _read(app, theirs, ref) == 404  # another region
    assert _read(app, central, ref) == 200
    assert app.test_client().get(f"/api/v1/complaints/{ref}").status_code == 401
    with app.app_context():
        c = services.find(ref)
        assert c.appeal_level is AppealLevel.regional
        told = session().scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "complaints.appeal")
        )
        assert list(told) == [ours.id]  # not the other region, not the centre
        rows, total = services.queue(ours, services.QueueFilters(status=""), 1, 20)
        assert [r.reference for r in rows] == [ref] and total == 1
        assert services.queue(theirs, services.QueueFilters(status=""), 1, 20)[1] == 0


def test_the_regional_reviewer_answers_the_appeal(app, factories, region) -> None:
    ours, theirs, _central, visitor, ref = region
    _answer_and_appeal(app, factories, visitor, ref)
    c = app.test_client()
    assert (
        c.post(
            f"/api/v1/complaints/{ref}/answer", json={"body": "Non."}, headers=token(app, theirs)
        ).status_code
        == 404
    )
    done = c.post(
        f"/api/v1/complaints/{ref}/answer",
        json={"body": "Recours examiné.", "outcome": "partly_founded"},
        headers=token(app, ours),
    )
    assert done.status_code == 200 and done.json["status"] == "answered"
    with app.app_context():
        c2 = services.find(ref)
        assert c2.status is Status.answered and c2.appeal_level is AppealLevel.regional
        # the answer is over: the reviewer may not act on it as the establishment would
        assert not services.can_handle(ours, c2)


def test_the_regional_reviewer_refers_the_appeal_up_to_the_central_level(
    app, factories, region
) -> None:
    ours, _theirs, central, visitor, ref = region
    _answer_and_appeal(app, factories, visitor, ref)
    c = signed_in(app, ours)
    page = c.get(f"/complaints/{ref}").get_data(as_text=True)
    assert f'action="/complaints/{ref}/take_appeal"' in page
    assert f'action="/complaints/{ref}/refer_up"' in page
    # a comment is required
    empty = c.post(f"/complaints/{ref}/refer_up", data={**_token(page), "refer-comment": ""})
    assert empty.status_code == 422
    page = c.get(f"/complaints/{ref}").get_data(as_text=True)
    resp = c.post(
        f"/complaints/{ref}/refer_up",
        data={**_token(page), "refer-comment": "Question de principe."},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    with app.app_context():
        got = services.find(ref)
        assert got.appeal_level is AppealLevel.central and got.status is Status.appealed
        assert EntryKind.referral in [e.kind for e in got.entries]
        told = list(
            session().scalars(
                select(OutboxMessage.user_id).where(OutboxMessage.kind == "complaints.appeal")
            )
        )
        assert central.id in told
    # the regional reviewer still reads it but no longer acts on it; the centre answers
    assert _read(app, ours, ref) == 200
    api = app.test_client()
    refused = api.post(
        f"/api/v1/complaints/{ref}/answer", json={"body": "x"}, headers=token(app, ours)
    )
    assert refused.status_code == 403 and refused.json["error"]["code"] == "appeal_level"
    done = api.post(
        f"/api/v1/complaints/{ref}/answer",
        json={"body": "Décision centrale."},
        headers=token(app, central),
    )
    assert done.status_code == 200
    # the author sees the answers, never the referral's comment
    seen = api.get(f"/api/v1/complaints/{ref}", headers=token(app, visitor))
    text = str(seen.json)
    assert "Décision centrale." in text and "Question de principe." not in text


def test_without_a_regional_reviewer_the_appeal_goes_to_the_central_level(app, factories) -> None:
    with app.app_context():
        elsewhere = factories.user(REGIONAL_REVIEWER, ("EST-B",))
        central = factories.user("central_admin")
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    _answer_and_appeal(app, factories, visitor, ref)
    with app.app_context():
        c = services.find(ref)
        assert c.appeal_level is AppealLevel.central
        assert not services.can_handle(elsewhere, c)
        told = list(
            session().scalars(
                select(OutboxMessage.user_id).where(OutboxMessage.kind == "complaints.appeal")
            )
        )
        assert central.id in told and elsewhere.id not in told
        assert set(told) == {u.id for u in central_reviewers()}
        services.take_appeal(c, central)
        assert c.status is Status.appeal_review and c.appeal_level is AppealLevel.central


def test_a_confidential_appeal_goes_to_the_central_level(app, factories) -> None:
    with app.app_context():
        ours = factories.user(REGIONAL_REVIEWER, ("EST-A",))
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor, confidential=True, category="treatment").json["reference"]
    with app.app_context():
        director = factories.user("director", ("EST-A",))
    c = app.test_client()
    assert (
        c.post(
            f"/api/v1/complaints/{ref}/answer", json={"body": "Vu."}, headers=token(app, director)
        ).status_code
        == 200
    )
    assert (
        c.post(
            f"/api/v1/complaints/{ref}/appeal", json={"reason": "Non."}, headers=token(app, visitor)
        ).status_code
        == 200
    )
    with app.app_context():
        assert services.find(ref).appeal_level is AppealLevel.central
    assert _read(app, ours, ref) == 404


def test_the_regional_reviewer_takes_up_the_appeal_on_the_page(app, factories, region) -> None:
    ours, _theirs, _central, visitor, ref = region
    _answer_and_appeal(app, factories, visitor, ref)
    c = signed_in(app, ours)
    page = c.get(f"/complaints/{ref}").get_data(as_text=True)
    resp = c.post(f"/complaints/{ref}/take_appeal", data=_token(page))
    assert resp.status_code == 302
    with app.app_context():
        got = services.find(ref)
        assert got.status is Status.appeal_review and got.appeal_level is AppealLevel.regional
    # the queue page lists it; another region's reviewer gets 404 on the page
    assert ref in c.get("/complaints/?status=").get_data(as_text=True)
    other = signed_in(app, _theirs)
    assert other.get(f"/complaints/{ref}").status_code == 404
    assert other.post(f"/complaints/{ref}/take_appeal", data={}).status_code == 404
    anon = app.test_client().get(f"/complaints/{ref}")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]
