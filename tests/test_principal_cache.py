"""The signed-in principal cached per process (core/identity/principal_cache.py): a change
made through one app (one gunicorn worker) is enforced on the very next request through
another app that has the principal cached; a signed-in request reads its identity with one
SQL statement.

Two app instances stand for two workers: each has its own cache. ``make_app(rolled_back=True)``
shares the ``app`` fixture's transaction (both backends); the ``postgresql`` test below builds
two apps on a database of their own, each with its own connections, and commits for real (what
another worker sees under READ COMMITTED).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from core.db import session
from core.identity import services as identity
from core.identity.models import PrincipalEpoch, User
from core.identity.principal_cache import cache_of
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD, Factories, TestDatabase, build_migrated_app, sql_statements

IDENTITY_TABLES = re.compile(
    r"\b(core_users|core_user_roles|core_user_establishments|core_role_permissions|core_roles"
    r"|core_api_tokens|core_principal_epoch)\b"
)


ADMIT_PAGE = "/detainees/new"


def sign_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302, resp.data[:300]
    return client


def token_of(app: Any, user: Any) -> dict[str, str]:
    resp = app.test_client().post(
        "/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def identity_statements(seen: list[str]) -> list[str]:
    return [s for s in seen if IDENTITY_TABLES.search(s)]


class Workers:
    """Two apps on one database; changes are made through ``a``, requests checked on ``b``."""

    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b
        self.make = Factories(a)
        with a.app_context():
            self.make.establishment("EST-A")
            self.make.establishment("EST-B")
            self.rn = self.make.detainee("EST-A").registration_number
            self.admin = self.make.user("central_admin", ())

    def clerk(self) -> Any:
        with self.a.app_context():
            return self.make.user("registry_clerk", ("EST-A",))

    def profile(self) -> str:
        return f"/detainees/{self.rn}"

    def warm(self, client: Any, url: str, status: int = 200, **kw: Any) -> None:
        """Two requests on ``b``: the second one is served from ``b``'s snapshot."""
        assert client.get(url, **kw).status_code == status
        hits = cache_of(self.b).hits
        assert client.get(url, **kw).status_code == status
        assert cache_of(self.b).hits == hits + 1, "b did not use its cached principal"

    def change(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` through ``a`` (in an app context of ``a``) and commit."""
        with self.a.app_context():
            fn()
            session().commit()

    def user_in_a(self, user: Any) -> Any:
        """``user`` as ``a``'s session sees it (call inside ``a``'s app context)."""
        return session().get(User, user.id)


# --------------------------------------------------------------------------------------------
# the scenarios, shared by the rolled-back apps and the committed PostgreSQL ones
# --------------------------------------------------------------------------------------------


def scenario_logout_everywhere(w: Workers) -> None:
    clerk = w.clerk()
    on_a, on_b = sign_in(w.a, clerk), sign_in(w.b, clerk)
    w.warm(on_b, w.profile())
    assert on_a.post("/logout").status_code == 302
    assert on_b.get(w.profile()).status_code == 302  # to the sign-in page


def scenario_deactivated(w: Workers) -> None:
    clerk = w.clerk()
    on_b = sign_in(w.b, clerk)
    headers = token_of(w.b, clerk)
    w.warm(on_b, w.profile())
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    w.change(
        lambda: identity.update_user(w.user_in_a(clerk), w.user_in_a(w.admin), is_active=False)
    )
    assert on_b.get(w.profile()).status_code == 302
    assert on_b.get(f"/api/v1/detainees/{w.rn}", headers=headers).status_code == 401


def scenario_role_permissions_edited(w: Workers) -> None:
    clerk = w.clerk()
    on_b = sign_in(w.b, clerk)
    headers = token_of(w.b, clerk)
    w.warm(on_b, w.profile())
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    with w.a.app_context():
        kept = identity.role_permissions()["registry_clerk"] - {"detainees.view"}
        identity.set_role_permissions("registry_clerk", kept, SYSTEM)
        session().commit()
    assert on_b.get(w.profile()).status_code == 403
    assert on_b.get(f"/api/v1/detainees/{w.rn}", headers=headers).status_code == 403
    with w.a.app_context():  # given back: allowed again on the next request
        identity.set_role_permissions("registry_clerk", kept | {"detainees.view"}, SYSTEM)
        session().commit()
    assert on_b.get(w.profile()).status_code == 200


def scenario_role_permissions_edited_for_a_user_new_to_the_worker(w: Workers) -> None:
    """What a set of roles gives is kept per worker under the epoch: a role's permissions
    edited hold for a user the worker has never served, whose roles it has."""
    seen_before, newcomer = w.clerk(), w.clerk()
    w.warm(sign_in(w.b, seen_before), w.profile())  # b keeps registry_clerk's permissions
    with w.a.app_context():
        kept = identity.role_permissions()["registry_clerk"] - {"detainees.view"}
        identity.set_role_permissions("registry_clerk", kept, SYSTEM)
        session().commit()
    assert sign_in(w.b, newcomer).get(w.profile()).status_code == 403
    with w.a.app_context():
        identity.set_role_permissions("registry_clerk", kept | {"detainees.view"}, SYSTEM)
        session().commit()


def scenario_establishments_changed(w: Workers) -> None:
    clerk = w.clerk()
    on_b = sign_in(w.b, clerk)
    headers = token_of(w.b, clerk)
    w.warm(on_b, w.profile())
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    w.change(
        lambda: identity.update_user(
            w.user_in_a(clerk), w.user_in_a(w.admin), establishments=["EST-B"]
        )
    )
    # the detainee is held at EST-A: for a clerk of EST-B it does not exist
    assert on_b.get(w.profile()).status_code == 404
    assert on_b.get(f"/api/v1/detainees/{w.rn}", headers=headers).status_code == 404


def scenario_role_removed(w: Workers) -> None:
    clerk = w.clerk()
    on_b = sign_in(w.b, clerk)
    headers = token_of(w.b, clerk)
    w.warm(on_b, ADMIT_PAGE)
    assert on_b.post("/api/v1/detainees", json={}, headers=headers).status_code == 422
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    w.change(
        lambda: identity.update_user(
            w.user_in_a(clerk), w.user_in_a(w.admin), roles=["visits_officer"]
        )
    )
    # registry_clerk admits detainees, visits_officer does not
    assert on_b.get(ADMIT_PAGE).status_code == 403
    assert on_b.post("/api/v1/detainees", json={}, headers=headers).status_code == 403


def scenario_token_revoked(w: Workers) -> None:
    clerk = w.clerk()
    headers = token_of(w.b, clerk)
    on_b = w.b.test_client()
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    assert w.a.test_client().post("/api/v1/auth/revoke", headers=headers).status_code == 200
    assert on_b.get(f"/api/v1/detainees/{w.rn}", headers=headers).status_code == 401


def scenario_password_changed(w: Workers) -> None:
    clerk = w.clerk()
    on_a, on_b = sign_in(w.a, clerk), sign_in(w.b, clerk)
    headers = token_of(w.b, clerk)
    w.warm(on_b, w.profile())
    w.warm(on_b, f"/api/v1/detainees/{w.rn}", headers=headers)
    resp = on_a.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "another-long-passphrase-2026",
        },
    )
    assert resp.status_code == 302, resp.data[:500]
    assert on_b.get(w.profile()).status_code == 302
    assert on_b.get(f"/api/v1/detainees/{w.rn}", headers=headers).status_code == 401


def scenario_second_factor_turned_off(w: Workers) -> None:
    """A role requires a second factor; the user's is turned off through ``a``: on ``b`` the
    next page sends them to set it up again."""
    import pyotp

    from core.identity import totp

    clerk = w.clerk()
    with w.a.app_context():
        totp.set_required_roles(["registry_clerk"], SYSTEM)
        fresh = w.user_in_a(clerk)
        secret = totp.start_enrolment(fresh)
        totp.confirm_enrolment(fresh, pyotp.TOTP(secret).now())
        session().commit()
    on_b = w.b.test_client()
    with on_b.session_transaction() as cookie:  # signed in (the code step is tested elsewhere)
        cookie["_user_id"] = f"{clerk.id}:1"
        cookie["_fresh"] = True
    w.warm(on_b, w.profile())
    with w.a.app_context():
        session().execute(
            text("DELETE FROM core_second_factors WHERE user_id = :u"), {"u": clerk.id}
        )
        session().commit()
    resp = on_b.get(w.profile())
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/two-factor")
    with w.a.app_context():  # the committed variant keeps its database: leave it as found
        totp.set_required_roles([], SYSTEM)
        session().commit()


def main_nav(body: bytes) -> str:
    found = re.search(rb'<nav class="main-nav".*?</nav>', body, re.S)
    assert found, body[:300]
    return found.group(0).decode()


def scenario_navigation_follows_a_role_granted_a_permission(w: Workers) -> None:
    """The navigation is kept with ``b``'s snapshot: a permission granted to the clerk's role
    through ``a`` shows its entry on ``b``'s very next page, and taking it back removes it."""
    clerk = w.clerk()
    on_b = sign_in(w.b, clerk)
    w.warm(on_b, w.profile())
    assert 'href="/audit/"' not in main_nav(on_b.get(w.profile()).data)
    with w.a.app_context():
        before = identity.role_permissions()["registry_clerk"]
        identity.set_role_permissions("registry_clerk", before | {"audit.view"}, SYSTEM)
        session().commit()
    w.warm(on_b, w.profile())
    assert 'href="/audit/"' in main_nav(on_b.get(w.profile()).data)
    with w.a.app_context():  # the committed variant keeps its database: leave it as found
        identity.set_role_permissions("registry_clerk", before, SYSTEM)
        session().commit()
    assert 'href="/audit/"' not in main_nav(on_b.get(w.profile()).data)


SCENARIOS = [
    scenario_navigation_follows_a_role_granted_a_permission,
    scenario_logout_everywhere,
    scenario_deactivated,
    scenario_role_permissions_edited,
    scenario_role_permissions_edited_for_a_user_new_to_the_worker,
    scenario_establishments_changed,
    scenario_role_removed,
    scenario_token_revoked,
    scenario_password_changed,
    scenario_second_factor_turned_off,
]


# --------------------------------------------------------------------------------------------
# two apps in the test's transaction (SQLite with make test, PostgreSQL with make test-postgres)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def workers(app: Any, make_app: Any) -> Workers:
    return Workers(app, make_app(rolled_back=True))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__[9:])
def test_a_change_through_one_worker_holds_on_the_next_request_of_another(
    workers: Workers, scenario: Callable[[Workers], None]
) -> None:
    scenario(workers)


# --------------------------------------------------------------------------------------------
# two apps, each with its own connections, committing for real (PostgreSQL)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def committed_workers(_idmaj_tmp: Path, idmaj_plugins: Any) -> Iterator[Workers]:
    from core.app import create_app
    from core.testing import test_config

    database = TestDatabase(_idmaj_tmp)
    a = build_migrated_app(database.url, _idmaj_tmp, plugins=idmaj_plugins)
    b = create_app(test_config(database.url, _idmaj_tmp), plugins=idmaj_plugins)
    try:
        yield Workers(a, b)
    finally:
        for built in (a, b):
            built.extensions["idmaj.db"].dispose()
        database.drop()


@pytest.mark.postgresql
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__[9:])
def test_committed_through_one_worker_holds_on_the_next_request_of_another(
    committed_workers: Workers, scenario: Callable[[Workers], None]
) -> None:
    scenario(committed_workers)


# --------------------------------------------------------------------------------------------
# the triggers keep the stamps, whoever writes
# --------------------------------------------------------------------------------------------


def _stamps(user_id: int) -> tuple[int, int]:
    return (
        session().scalar(select(User.principal_stamp).where(User.id == user_id)),
        session().scalar(select(PrincipalEpoch.stamp).where(PrincipalEpoch.id == 1)),
    )


def test_plain_sql_changes_the_stamps(app: Any, factories: Any) -> None:
    """Raw SQL (a command, psql) changes the stamps too: the triggers, not the services."""
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        factories.establishment("EST-B")
        est_b = session().scalar(text("SELECT id FROM core_establishments WHERE code = 'EST-B'"))
        steps = [
            ("UPDATE core_users SET full_name = 'Autre' WHERE id = :u", {}, "user"),
            ("INSERT INTO core_user_roles (user_id, role_code) VALUES (:u, 'nurse')", {}, "user"),
            ("DELETE FROM core_user_roles WHERE user_id = :u AND role_code = 'nurse'", {}, "user"),
            (
                "INSERT INTO core_user_establishments (user_id, establishment_id) VALUES (:u, :e)",
                {"e": est_b},
                "user",
            ),
            (
                "DELETE FROM core_user_establishments WHERE establishment_id = :e",
                {"e": est_b},
                "user",
            ),
            ("DELETE FROM core_role_permissions WHERE role_code = 'nurse'", {}, "epoch"),
            (
                "INSERT INTO core_role_permissions (role_code, permission_code) "
                "SELECT 'nurse', code FROM core_permissions",
                {},
                "epoch",
            ),
            ("UPDATE core_roles SET requires_second_factor = :t", {"t": True}, "epoch"),
            (
                "INSERT INTO core_second_factors (user_id, secret, created_at) "
                "VALUES (:u, 'x', CURRENT_TIMESTAMP)",
                {},
                "user",
            ),
            ("DELETE FROM core_second_factors WHERE user_id = :u", {}, "user"),
        ]
        for sql, params, which in steps:
            user_before, epoch_before = _stamps(clerk.id)
            assert session().execute(text(sql), {"u": clerk.id, **params}).rowcount > 0, sql
            user_after, epoch_after = _stamps(clerk.id)
            if which == "user":
                assert user_after != user_before, sql
            else:
                assert epoch_after != epoch_before, sql


# --------------------------------------------------------------------------------------------
# one statement for the identity of a signed-in request
# --------------------------------------------------------------------------------------------


def test_a_signed_in_page_reads_its_identity_with_one_statement(
    app: Any, client: Any, factories: Any
) -> None:
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        rn = factories.detainee("EST-A").registration_number
    assert (
        client.post(
            "/login", data={"username": clerk.username, "password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    url = f"/detainees/{rn}"
    resp, first = sql_statements(app, lambda: client.get(url))
    assert resp.status_code == 200
    resp, seen = sql_statements(app, lambda: client.get(url))
    assert resp.status_code == 200
    identity_reads = identity_statements(seen)
    assert len(identity_reads) == 1, identity_reads
    assert "core_principal_epoch" in identity_reads[0]
    # before the snapshot existed: the user, roles, establishment links, permissions, second
    # factor (and the one statement)
    assert len(identity_statements(first)) > 1


def test_a_bearer_request_reads_its_identity_with_one_statement(
    app: Any, client: Any, factories: Any, api_headers: Any
) -> None:
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        rn = factories.detainee("EST-A").registration_number
    headers = api_headers(clerk)
    url = f"/api/v1/detainees/{rn}"
    assert client.get(url, headers=headers).status_code == 200
    resp, seen = sql_statements(app, lambda: client.get(url, headers=headers))
    assert resp.status_code == 200
    identity_reads = identity_statements(seen)
    assert len(identity_reads) == 1, identity_reads
    assert "core_api_tokens" in identity_reads[0]


def test_a_user_new_to_the_worker_costs_one_statement_more_not_five(
    app: Any, client: Any, factories: Any, api_headers: Any
) -> None:
    """The first request of a user this process has not served: the token row, then the user
    with its role and establishment links joined; the permissions and second-factor rule of
    its roles come from the role set another user of the same roles filled."""
    with app.app_context():
        first, second = (factories.user("registry_clerk", ("EST-A",)) for _ in range(2))
        rn = factories.detainee("EST-A").registration_number
    url = f"/api/v1/detainees/{rn}"
    assert client.get(url, headers=api_headers(first)).status_code == 200
    headers = api_headers(second)
    resp, seen = sql_statements(app, lambda: client.get(url, headers=headers))
    assert resp.status_code == 200
    identity_reads = identity_statements(seen)
    assert len(identity_reads) == 2, identity_reads
    assert "core_api_tokens" in identity_reads[0]
    assert (
        "core_user_roles" in identity_reads[1] and "core_user_establishments" in (identity_reads[1])
    )


def test_the_served_principal_is_an_ordinary_user_of_the_request_session(
    app: Any, client: Any, factories: Any
) -> None:
    """Served from the snapshot, the user is attached to the request's session: changed and
    flushed like any row, its establishments loaded on access; the snapshot stays as it was."""
    from core.identity.principal_cache import session_principal

    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    sign_in(app, clerk).get("/")  # a snapshot exists
    with app.test_request_context():
        user = session_principal(clerk.id, 1)
        assert user is not None and user in session()
        assert [e.code for e in user.establishments] == ["EST-A"]
        assert user.roles == frozenset({"registry_clerk"})
        user.full_name = "Nom Changé"
        session().flush()
        assert session().scalar(select(User.full_name).where(User.id == clerk.id)) == ("Nom Changé")
        snap = cache_of(app)._entries[clerk.id]
        assert snap.user.full_name != "Nom Changé"
        snapshot_state = sa_inspect(snap.user)
        assert snapshot_state.detached and "establishments" not in snapshot_state.dict
        assert not snapshot_state.modified
        session().rollback()
