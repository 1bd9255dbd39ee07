"""Detainee records: admission, profile (plugin panels, placement history), edit (audited
diff), release page, moves between establishments, registration numbers, scoping on pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.contributions import Panel
from core.db import session
from core.detainees import services
from core.detainees.models import Detainee, LegalStatus, Placement
from core.errors import Blocked, Conflict, ValidationFailed
from core.establishments.services import get_by_code
from core.plugins import get_plugin_manager, hookimpl
from core.principals import SYSTEM
from core.vetoes import Blocker

ADMISSION = {
    "first_name": "Youssef",
    "last_name": "Benjelloun",
    "first_name_ar": "يوسف",
    "last_name_ar": "بنجلون",
    "birth_date": "1985-03-02",
    "sex": "M",
    "national_id": "BE123456",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


class ProbePlugin:
    """A test plugin: a profile panel, vetoes and lifecycle reactions on demand."""

    PLUGIN_NAME = "probe"

    def __init__(self) -> None:
        self.release_reasons: list[str] = []
        self.transfer_reasons: list[str] = []
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def detainee_profile_panels(self, detainee: Any, user: Any) -> list[Panel]:
        return [
            Panel(
                key="probe",
                title="Probe panel",
                template="probe_panel.html",
                context={"note": f"probe for {detainee.registration_number}"},
            )
        ]

    @hookimpl
    def release_blockers(self, detainee: Any) -> list[Blocker]:
        return [Blocker("probe", "probe", r) for r in self.release_reasons]

    @hookimpl
    def transfer_blockers(self, detainee: Any, destination: Any) -> list[Blocker]:
        return [Blocker("probe", "probe", r) for r in self.transfer_reasons]

    @hookimpl
    def on_detainee_released(self, detainee: Any, actor: Any) -> None:
        self.seen.append(("released", detainee.registration_number))

    @hookimpl
    def on_detainee_transferred(
        self, detainee: Any, source: Any, destination: Any, actor: Any
    ) -> None:
        self.seen.append(("transferred", f"{source.code}>{destination.code}"))


@pytest.fixture
def probe(app) -> Iterator[ProbePlugin]:
    plugin = ProbePlugin()
    pm = get_plugin_manager(app)
    pm.register(plugin, name="probe")
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"probe_panel.html": '<p class="probe">{{ panel.context.note }}</p>'}),
            app.jinja_env.loader,
        ]
    )
    try:
        yield plugin
    finally:
        pm.unregister(plugin)
        app.jinja_env.loader = original


@pytest.fixture(autouse=True)
def _english(client) -> None:
    """Pages in English, so the assertions below can read them."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _count(model: Any) -> int:
    return session().scalar(select(func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------------------------
# admission
# --------------------------------------------------------------------------------------------


def test_admission_page_permissions(app, client, login_as):
    assert client.get("/detainees/new").status_code == 302  # anonymous: sign in
    for role, status in (
        ("visits_officer", 403),
        ("director", 403),
        ("auditor", 403),
        ("central_admin", 403),
        ("registry_clerk", 200),
    ):
        login_as(role, "EST-A" if role not in ("auditor", "central_admin") else ())
        assert client.get("/detainees/new").status_code == status, role


def test_admission_page_creates_record_placement_and_audit(app, client, login_as):
    clerk = login_as("registry_clerk", "EST-A")
    resp = client.post("/detainees/new", data=ADMISSION)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    rn = resp.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"\d{4}-\d{6}", rn)
    with app.app_context():
        det = session().scalar(select(Detainee).where(Detainee.registration_number == rn))
        assert det.national_id == "BE123456"
        assert det.establishment.code == "EST-A"
        assert [p.reason for p in det.placements] == ["admission"]
        event = session().scalar(select(AuditEvent).where(AuditEvent.object_id == rn))
        assert event.action == "detainee.admit"
        assert event.actor_id == clerk.id


def test_admission_in_another_establishment_is_refused_and_writes_nothing(
    app, client, login_as, factories
):
    with app.app_context():
        factories.establishment("EST-B")
    login_as("registry_clerk", "EST-A")
    with app.app_context():
        before = _count(Detainee)
    resp = client.post("/detainees/new", data={**ADMISSION, "establishment": "EST-B"})
    assert resp.status_code == 422
    assert 'id="establishment-error"' in resp.get_data(as_text=True)
    with app.app_context():
        assert _count(Detainee) == before


def test_duplicate_national_id_while_held_is_a_conflict(app, client, login_as, factories):
    with app.app_context():
        first = factories.detainee(national_id="BE123456")
    login_as("registry_clerk", "EST-A")
    resp = client.post("/detainees/new", data=ADMISSION)
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    assert 'id="national_id-error"' in body
    with app.app_context():
        assert _count(Detainee) == 1
        services.release(services.get_detainee(first.registration_number, SYSTEM), SYSTEM)
        session().commit()
    # released: the same person may be admitted again, under a new registration number
    again = client.post("/detainees/new", data=ADMISSION)
    assert again.status_code == 302
    assert again.headers["Location"].rsplit("/", 1)[-1] != first.registration_number


def test_registration_numbers_are_unique_nationally(app, factories):
    with app.app_context():
        numbers = [
            factories.detainee(establishment=code, first_name=f"N{i}").registration_number
            for i, code in enumerate(["EST-A", "EST-B", "EST-C"] * 4)
        ]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"\d{4}-\d{6}", n) for n in numbers)


# --------------------------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------------------------


@pytest.fixture
def held(app, factories) -> str:
    with app.app_context():
        return factories.detainee("EST-A").registration_number


@pytest.mark.parametrize(
    ("role", "establishment", "status"),
    [
        ("registry_clerk", "EST-A", 200),
        ("director", "EST-A", 200),
        ("doctor", "EST-A", 200),
        ("registry_clerk", "EST-B", 404),
        ("director", "EST-B", 404),
        ("auditor", (), 200),
        ("central_admin", (), 200),
    ],
)
def test_profile_scoping(client, login_as, held, role, establishment, status):
    login_as(role, establishment)
    assert client.get(f"/detainees/{held}").status_code == status


def test_profile_anonymous_and_visitor(app, client, factories, held):
    assert client.get(f"/detainees/{held}").status_code == 302
    with app.app_context():
        visitor = factories.visitor()
    client.post("/login", data={"username": visitor.username, "password": "test-password-123"})
    assert client.get(f"/detainees/{held}").status_code == 403


def test_profile_unknown_number_is_404(client, login_as):
    login_as("registry_clerk", "EST-A")
    assert client.get("/detainees/2020-999999").status_code == 404
    assert client.get("/detainees/not-a-number").status_code == 404


def test_profile_shows_plugin_panels_and_placement_history(
    app, client, login_as, factories, probe, held
):
    with app.app_context():
        factories.establishment("EST-B")
        det = services.get_detainee(held, SYSTEM)
        services.move(det, get_by_code("EST-B"), SYSTEM, note="court order")
        session().commit()
    login_as("central_admin", ())
    body = client.get(f"/detainees/{held}").get_data(as_text=True)
    assert f'<p class="probe">probe for {held}</p>' in body
    assert 'id="panel-probe"' in body
    history = body[body.index("Placement history") :]
    assert history.index("EST-A") < history.index("EST-B")
    assert "Admission" in history and "Transfer" in history
    # a clerk of the new establishment sees the whole history too (the stay at EST-A
    # included), read with the record itself: no second statement for the placements
    from core.testing import sql_statements

    login_as("registry_clerk", "EST-B")
    resp, seen = sql_statements(app, lambda: client.get(f"/detainees/{held}"))
    history = resp.get_data(as_text=True).split("Placement history", 1)[1]
    assert history.index("EST-A") < history.index("EST-B")
    reads = [x for x in seen if x.startswith("SELECT") and "core_placements" in x]
    assert len(reads) == 1 and "FROM core_detainees" in reads[0], reads


# --------------------------------------------------------------------------------------------
# edit
# --------------------------------------------------------------------------------------------


def test_edit_page_permissions(client, login_as, held):
    assert client.get(f"/detainees/{held}/edit").status_code == 302
    login_as("doctor", "EST-A")
    assert client.get(f"/detainees/{held}/edit").status_code == 403
    login_as("registry_clerk", "EST-B")
    assert client.get(f"/detainees/{held}/edit").status_code == 404
    assert client.post(f"/detainees/{held}/edit", data=ADMISSION).status_code == 404
    login_as("registry_clerk", "EST-A")
    resp = client.get(f"/detainees/{held}/edit")
    assert resp.status_code == 200
    assert 'value="El Idrissi"' in resp.get_data(as_text=True)


def test_edit_page_saves_an_audited_diff(app, client, login_as, held):
    clerk = login_as("registry_clerk", "EST-A")
    data = {**ADMISSION, "first_name": "Mohamed", "last_name": "Idrissi", "national_id": ""}
    data.pop("establishment")
    data.update(first_name_ar="محمد", last_name_ar="الإدريسي", birth_date="1990-05-17")
    resp = client.post(f"/detainees/{held}/edit", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        det = services.get_detainee(held, SYSTEM)
        assert det.last_name == "Idrissi"
        event = session().scalar(
            select(AuditEvent).where(
                AuditEvent.object_id == held, AuditEvent.action == "detainee.update"
            )
        )
        assert event.actor_id == clerk.id
        assert event.summary == {"last_name": ["El Idrissi", "Idrissi"]}


def test_edit_of_a_released_record_is_a_conflict(app, client, login_as, held):
    with app.app_context():
        services.release(services.get_detainee(held, SYSTEM), SYSTEM)
        session().commit()
    login_as("registry_clerk", "EST-A")
    data = {**ADMISSION}
    data.pop("establishment")
    assert client.post(f"/detainees/{held}/edit", data=data).status_code == 409
    with app.app_context():
        assert services.get_detainee(held, SYSTEM).last_name == "El Idrissi"


# --------------------------------------------------------------------------------------------
# release
# --------------------------------------------------------------------------------------------


def test_release_page_permissions(client, login_as, held):
    assert client.get(f"/detainees/{held}/release").status_code == 302
    login_as("director", "EST-A")
    assert client.get(f"/detainees/{held}/release").status_code == 403
    assert client.post(f"/detainees/{held}/release").status_code == 403
    login_as("registry_clerk", "EST-B")
    assert client.get(f"/detainees/{held}/release").status_code == 404
    assert client.post(f"/detainees/{held}/release").status_code == 404
    login_as("registry_clerk", "EST-A")
    assert client.get(f"/detainees/{held}/release").status_code == 200


def test_release_page_releases_once(app, client, login_as, probe, held):
    login_as("registry_clerk", "EST-A")
    resp = client.post(f"/detainees/{held}/release", data={"note": "end of sentence"})
    assert resp.status_code == 302
    with app.app_context():
        det = services.get_detainee(held, SYSTEM)
        assert det.legal_status == LegalStatus.released
        assert det.released_at is not None
        assert [p.reason for p in det.placements] == ["admission", "release"]
        assert all(p.ended_at is not None for p in det.placements)
    assert probe.seen == [("released", held)]
    again = client.post(f"/detainees/{held}/release", data={"note": ""})
    assert again.status_code == 409
    profile = client.get(f"/detainees/{held}").get_data(as_text=True)
    assert "Released" in profile and "Release this detainee" not in profile


def test_release_blockers_are_shown_and_stop_the_release(app, client, login_as, probe, held):
    probe.release_reasons = ["Account balance is not settled"]
    login_as("registry_clerk", "EST-A")
    page = client.get(f"/detainees/{held}/release").get_data(as_text=True)
    assert "Account balance is not settled" in page
    resp = client.post(f"/detainees/{held}/release", data={"note": ""})
    assert resp.status_code == 422
    assert "Account balance is not settled" in resp.get_data(as_text=True)
    with app.app_context():
        assert services.get_detainee(held, SYSTEM).legal_status == LegalStatus.pretrial
        assert _count(Placement) == 1
    assert probe.seen == []


# --------------------------------------------------------------------------------------------
# moves (used by the transfers module)
# --------------------------------------------------------------------------------------------


def test_move_changes_establishment_and_history_atomically(app, factories, probe, held):
    with app.app_context():
        dest = factories.establishment("EST-B")
        det = services.get_detainee(held, SYSTEM)
        services.move(det, dest, SYSTEM, note="overcrowding")
        session().commit()
        det = services.get_detainee(held, SYSTEM)
        assert det.establishment.code == "EST-B"
        reasons = [(p.reason, p.establishment.code, p.ended_at is None) for p in det.placements]
        assert reasons == [("admission", "EST-A", False), ("transfer", "EST-B", True)]
        event = session().scalar(
            select(AuditEvent).where(
                AuditEvent.object_id == held, AuditEvent.action == "detainee.transfer"
            )
        )
        assert event.summary["establishment"] == ["EST-A", "EST-B"]
        assert event.establishment_id == dest.id
    assert probe.seen == [("transferred", "EST-A>EST-B")]


def test_move_rules(app, factories, probe, held):
    with app.app_context():
        here = factories.establishment("EST-A")
        dest = factories.establishment("EST-B")
        det = services.get_detainee(held, SYSTEM)
        with pytest.raises(ValidationFailed):
            services.move(det, here, SYSTEM)
        probe.transfer_reasons = ["A court hearing is planned"]
        with pytest.raises(Blocked) as blocked:
            services.move(det, dest, SYSTEM)
        assert blocked.value.reasons == ["A court hearing is planned"]
        assert det.establishment_id == here.id
        probe.transfer_reasons = []
        services.release(det, SYSTEM)
        with pytest.raises(Conflict):
            services.move(det, dest, SYSTEM)


def test_edit_to_a_national_id_already_held_is_a_conflict(app, client, login_as, factories):
    with app.app_context():
        factories.detainee("EST-A", national_id="BE111111")
        rn = factories.detainee("EST-A", national_id="BE222222").registration_number
    login_as("registry_clerk", "EST-A")
    data = {**ADMISSION, "national_id": "BE111111"}
    data.pop("establishment")
    resp = client.post(f"/detainees/{rn}/edit", data=data)
    assert resp.status_code == 409
    assert 'id="national_id-error"' in resp.get_data(as_text=True)
    with app.app_context():
        assert services.get_detainee(rn, SYSTEM).national_id == "BE222222"


# --------------------------------------------------------------------------------------------
# duplicate people at admission (issue 11 point 9)
# --------------------------------------------------------------------------------------------


def test_a_national_id_held_elsewhere_says_who_holds_it_where(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B", name="Prison locale Beta")
        held = factories.detainee("EST-B", national_id="BE123456")
    login_as("registry_clerk", "EST-A")
    resp = client.post("/detainees/new", data=ADMISSION, headers={"Accept-Language": "en"})
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    # the clerk cannot open EST-B's records, but learns enough to ask for a transfer
    assert held.registration_number in body and "Prison locale Beta" in body
    assert "transfer" in body
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Detainee)) == 1


def test_a_namesake_is_a_warning_the_clerk_confirms(app, client, factories, login_as):
    with app.app_context():
        factories.establishment("EST-B", name="Prison locale Beta")
        same = factories.detainee(
            "EST-B",
            first_name="youssef ",
            last_name="BENJELLOUN",
            first_name_ar="يوسف",
            last_name_ar="بنجلون",
            birth_date="1985-03-02",
        )
    login_as("registry_clerk", "EST-A")
    data = {**ADMISSION, "national_id": ""}
    first = client.post("/detainees/new", data=data, headers={"Accept-Language": "en"})
    assert first.status_code == 409
    page = first.get_data(as_text=True)
    assert same.registration_number in page and "Prison locale Beta" in page
    assert 'name="confirm_not_duplicate"' in page  # the confirmation is offered
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Detainee)) == 1
    confirmed = {**data, "national_id": "BE999999", "confirm_not_duplicate": "y"}
    second = client.post("/detainees/new", data=confirmed)
    assert second.status_code == 302
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Detainee)) == 2
        # the look across establishments is on the record, with the admission it served
        reasons = [
            e.summary.get("reason")
            for e in session().scalars(
                select(AuditEvent).where(AuditEvent.action == "scope.bypass")
            )
        ]
        assert "admission: is this person already held elsewhere?" in reasons


def test_another_birth_date_is_not_a_namesake(app, client, factories, login_as):
    with app.app_context():
        factories.detainee(first_name="Youssef", last_name="Benjelloun", birth_date="1985-03-03")
    login_as("registry_clerk", "EST-A")
    resp = client.post("/detainees/new", data={**ADMISSION, "national_id": ""})
    assert resp.status_code == 302
    form = client.get("/detainees/new").get_data(as_text=True)
    assert 'name="confirm_not_duplicate"' not in form  # not offered until a namesake is found


def test_a_double_clicked_admission_records_once(app, client, login_as):
    login_as("registry_clerk", "EST-A")
    page = client.get("/detainees/new").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="form_token"', page
    )
    assert token, "the admission form carries a one-time token"
    data = {**ADMISSION, "form_token": token.group(1)}
    first = client.post("/detainees/new", data=data)
    assert first.status_code == 302
    second = client.post("/detainees/new", data=data)
    assert second.status_code == 303  # the first admission's profile, not a second record
    assert second.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Detainee)) == 1


def test_the_profile_runs_the_context_processors_once_for_the_page_and_its_panels(
    app, client, login_as, probe, held
):
    """The page and its panels share one template context: each context processor runs once
    per profile, not once for the page and once more for the panels."""
    runs: list[str] = []
    app.template_context_processors[None].append(lambda: runs.append("run") or {})
    login_as("central_admin", ())
    body = client.get(f"/detainees/{held}").get_data(as_text=True)
    assert 'id="panel-probe"' in body and "Placement history" in body
    assert runs == ["run"]
