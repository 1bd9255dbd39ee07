"""Who sees what: authors only their own; a confidential complaint only the director at the
establishment; other establishments nothing; anonymous users are sent to sign in (pages) or
get 401 (API). Every page and endpoint, each role."""

from __future__ import annotations

import pytest

from core.db import session

from .helpers import family, file_api, token

STAFF_ROLES = [
    "central_admin",
    "director",
    "registry_clerk",
    "visits_officer",
    "doctor",
    "nurse",
    "accountant",
    "transfers_officer",
    "complaints_officer",
    "auditor",
]


@pytest.fixture
def filed(app, factories):
    """At EST-A: an ordinary complaint (food), a confidential one and one about visits, all by
    one family member; another family member's complaint."""
    visitor, _det = family(app, factories)
    other_visitor, _other_det = family(app, factories)
    refs = {
        "plain": file_api(app, visitor).json["reference"],
        "secret": file_api(
            app, visitor, confidential=True, category="treatment", subject="Darbni"
        ).json["reference"],
        "visits": file_api(app, visitor, category="visits.visit", subject="Ziyara").json[
            "reference"
        ],
        "other": file_api(app, other_visitor, subject="Other family").json["reference"],
    }
    return visitor, other_visitor, refs


def _reads(app, user, ref: str) -> int:
    return app.test_client().get(f"/api/v1/complaints/{ref}", headers=token(app, user)).status_code


EXPECTED = {
    # role: (plain, secret, visits) at EST-A
    "complaints_officer": (200, 404, 200),
    "director": (200, 200, 200),
    "visits_officer": (404, 404, 200),  # only what is routed to the visits office
    "accountant": (404, 404, 404),
    "registry_clerk": (404, 404, 404),
    "doctor": (404, 404, 404),
    "nurse": (404, 404, 404),
    "transfers_officer": (404, 404, 404),
    "auditor": (404, 404, 404),
    "central_admin": (200, 200, 200),  # the central level reviews appeals everywhere
}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_role_at_the_establishment(app, factories, filed, role) -> None:
    _visitor, _other, refs = filed
    with app.app_context():
        user = factories.user(role, ("EST-A",))
    got = tuple(_reads(app, user, refs[k]) for k in ("plain", "secret", "visits"))
    assert got == EXPECTED[role], (role, got)


@pytest.mark.parametrize("role", ["complaints_officer", "director", "visits_officer"])
def test_another_establishment_sees_nothing(app, factories, filed, role) -> None:
    _visitor, _other, refs = filed
    with app.app_context():
        user = factories.user(role, ("EST-B",))
    for ref in refs.values():
        assert _reads(app, user, ref) == 404
    c = app.test_client()
    from core.testing import TEST_PASSWORD

    c.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    for ref in refs.values():
        assert c.get(f"/complaints/{ref}").status_code == 404
    queue = c.get("/complaints/?status=").get_data(as_text=True)
    assert not any(ref in queue for ref in refs.values())
    with app.app_context():
        from plugins.complaints import services

        # counts too (they run over subqueries): nothing of EST-A leaks into EST-B's figures
        assert services.dashboard(user).open == 0
        assert services.queue(user, services.QueueFilters(status=""), 1, 20)[1] == 0
        assert services.figures(user).total == 0


def test_authors_see_only_their_own(app, filed) -> None:
    visitor, other, refs = filed
    for key in ("plain", "secret", "visits"):
        assert _reads(app, visitor, refs[key]) == 200
        assert _reads(app, other, refs[key]) == 404
    assert _reads(app, other, refs["other"]) == 200
    assert _reads(app, visitor, refs["other"]) == 404
    from core.testing import TEST_PASSWORD

    c = app.test_client()
    c.post("/login", data={"username": visitor.username, "password": TEST_PASSWORD})
    mine = c.get("/complaints/mine").get_data(as_text=True)
    assert refs["plain"] in mine and refs["secret"] in mine and refs["other"] not in mine
    assert c.get(f"/complaints/{refs['other']}").status_code == 404
    assert c.get("/complaints/").status_code == 302  # a family member has no staff queue
    assert c.get("/complaints/figures").status_code == 403
    assert c.get("/complaints/calendar").status_code == 403


def test_the_confidential_complaint_is_in_no_queue_but_the_directors(app, factories, filed) -> None:
    _visitor, _other, refs = filed
    from core.testing import TEST_PASSWORD

    for role, sees in (
        ("complaints_officer", False),
        ("director", True),
        ("visits_officer", False),
    ):
        with app.app_context():
            user = factories.user(role, ("EST-A",))
        c = app.test_client()
        c.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        page = c.get("/complaints/?status=").get_data(as_text=True)
        assert (refs["secret"] in page) is sees, role
        assert (c.get(f"/complaints/{refs['secret']}").status_code == 200) is sees, role
    with app.app_context():
        from plugins.complaints import services

        director = factories.user("director", ("EST-A",))
        officer = factories.user("complaints_officer", ("EST-A",))
        assert services.dashboard(director).open == 4
        assert services.dashboard(officer).open == 3
        session().rollback()


def test_anonymous(app, client, filed) -> None:
    _visitor, _other, refs = filed
    ref = refs["plain"]
    for path in (
        "/complaints/",
        "/complaints/mine",
        "/complaints/new",
        f"/complaints/{ref}",
        "/complaints/figures",
        "/complaints/calendar",
        f"/complaints/{ref}/letter/fr",
        "/complaints/overdue",
        "/complaints/figures.csv",
    ):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert client.post(f"/complaints/{ref}/answer", data={"ans-body": "x"}).status_code == 302
    for method, path in (
        ("get", "/api/v1/complaints/categories"),
        ("post", "/api/v1/complaints"),
        ("get", f"/api/v1/complaints/{ref}"),
        ("post", f"/api/v1/complaints/{ref}/answer"),
        ("post", f"/api/v1/complaints/{ref}/appeal"),
    ):
        assert getattr(client, method)(path, json={}).status_code == 401, path


def test_who_may_answer(app, factories, filed) -> None:
    visitor, _other, refs = filed
    c = app.test_client()
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        officer_b = factories.user("complaints_officer", ("EST-B",))
        officer = factories.user("complaints_officer", ("EST-A",))
        visits = factories.user("visits_officer", ("EST-A",))
    body = {"body": "Réponse"}
    assert (
        c.post(
            f"/api/v1/complaints/{refs['plain']}/answer", json=body, headers=token(app, visitor)
        ).status_code
        == 403
    )
    assert (
        c.post(
            f"/api/v1/complaints/{refs['plain']}/answer", json=body, headers=token(app, clerk)
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/api/v1/complaints/{refs['plain']}/answer", json=body, headers=token(app, officer_b)
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/api/v1/complaints/{refs['secret']}/answer", json=body, headers=token(app, officer)
        ).status_code
        == 404
    )
    assert (
        c.post(
            f"/api/v1/complaints/{refs['visits']}/answer", json=body, headers=token(app, visits)
        ).status_code
        == 200
    )


def test_staff_named_in_a_complaint_never_handle_it(app, factories, filed) -> None:
    _visitor, _other, refs = filed
    from core.principals import SYSTEM
    from plugins.complaints import services

    with app.app_context():
        named = factories.user("complaints_officer", ("EST-A",))
        colleague = factories.user("complaints_officer", ("EST-A",))
        c = services.find(refs["plain"])
        services.assign(c, SYSTEM, named.id)
        services.name_staff(c, SYSTEM, [named.id])
        session().commit()
        c = services.find(refs["plain"])
        assert c.assigned_to_id is None  # unassigned once named
        assert named.id not in [u.id for u in services.assignable_staff(c)]
        from core.errors import ValidationFailed

        with pytest.raises(ValidationFailed):
            services.assign(c, SYSTEM, named.id)
        services.assign(c, SYSTEM, colleague.id)
        session().commit()
    resp = app.test_client().post(
        f"/api/v1/complaints/{refs['plain']}/answer", json={"body": "x"}, headers=token(app, named)
    )
    assert resp.status_code == 403 and resp.json["error"]["code"] == "named_staff"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_profile_panel_lists_what_each_role_may_read(app, factories, filed, role) -> None:
    """The detainee's panel (one statement per kind of reader, built once) lists exactly the
    complaints the role may open; staff of another establishment see none of them; two users
    with the same role and establishments share the one statement."""
    from core.principals import acting_as
    from plugins.complaints.models import Complaint
    from plugins.complaints.services.access import reader_of
    from plugins.complaints.services.reading import _detainee_panel, detainee_complaints

    _visitor, _other, refs = filed
    with app.app_context():
        det = session().query(Complaint).filter_by(reference=refs["plain"]).one().detainee
        here = [factories.user(role, ("EST-A",)) for _ in range(2)]
        elsewhere = factories.user(role, ("EST-B",))
        expected = {
            refs[k]
            for k, status in zip(("plain", "secret", "visits"), EXPECTED[role], strict=True)
            if status == 200
        }
        for user in here:
            with acting_as(user):
                assert {c.reference for c in detainee_complaints(det, user)} == expected
        with acting_as(elsewhere):
            got = {c.reference for c in detainee_complaints(det, elsewhere)}
        assert got == (expected if role in ("central_admin",) else set())
        assert _detainee_panel(reader_of(here[0])) is _detainee_panel(reader_of(here[1]))
