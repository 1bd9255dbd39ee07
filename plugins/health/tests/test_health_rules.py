"""The rules: admission opens the file, the overdue list, transfer hand-over in the move's
transaction, the transfer veto and the escort's needs, the hospital move through the transfers
port (a throwaway provider), state machines, doses once, nurses never sign."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from core.contributions import EscortHealth, ServicePort
from core.db import session
from core.detainees.services import get_detainee, move
from core.errors import Blocked, Conflict, Forbidden, NotFound, ValidationFailed
from core.establishments.services import get_by_code
from core.plugins import hookimpl
from core.ports.transfers import TRANSFER_REQUESTS, TransferRef, TransferRequests
from core.principals import SYSTEM
from core.vetoes import MoveContext
from plugins.health.models import Appointment, AppointmentStatus, Handover, HealthFile
from plugins.health.services import care, consultations, files, prescriptions
from plugins.health.services.access import open_file
from plugins.health.services.localtime import local_time, today_local
from plugins.health.tests.helpers import CONSULTATION, world


def test_admission_opens_the_file_with_screening_due_in_24_hours(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A")
        hfile = session().scalar(select(HealthFile).where(HealthFile.detainee_id == det.id))
        assert hfile is not None and hfile.screened_at is None
        assert hfile.screening_due_at - det.admitted_at == dt.timedelta(hours=24)
        est = get_by_code("EST-A")
        assert files.overdue_screenings([est.id]) == []
        session().execute(
            update(HealthFile)
            .where(HealthFile.id == hfile.id)
            .values(screening_due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
        overdue = files.overdue_screenings([est.id])
        assert [o.registration_number for o in overdue] == [det.registration_number]
        acc = open_file(det.registration_number, SYSTEM)
        files.record_screening(
            acc, {"tuberculosis": "negative", "self_harm_risk": "none", "pregnancy": "no"}
        )
        assert files.overdue_screenings([est.id]) == []
        with pytest.raises(ValidationFailed):
            files.record_screening(
                acc, {"tuberculosis": "maybe", "self_harm_risk": "none", "pregnancy": "no"}
            )


def test_transfer_hands_the_file_over_in_the_same_transaction(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    with app.app_context():
        acc = open_file(rn, SYSTEM)
        appt = care.book(
            acc, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1), purpose="Contrôle"
        )
        session().commit()
        move(get_detainee(rn, SYSTEM), get_by_code("EST-B"), SYSTEM)
        session().commit()
        hfile = session().scalar(
            select(HealthFile).where(HealthFile.detainee_id == w["detainee_id"])
        )
        assert hfile.establishment_id == get_by_code("EST-B").id
        handover = session().scalar(select(Handover).where(Handover.file_id == hfile.id))
        assert handover is not None
        assert session().get(Appointment, appt.id).status == AppointmentStatus.cancelled
    assert (
        client.get(f"/api/v1/health/files/{rn}", headers=api_headers(w["doctor"])).status_code
        == 404
    )
    resp = client.get(f"/api/v1/health/files/{rn}", headers=api_headers(w["other_doctor"]))
    assert resp.status_code == 200 and resp.json["emergency_access"] is False


def test_a_failed_move_leaves_the_file_where_it_was(app, factories):
    w = world(app, factories)
    with app.app_context():
        acc = open_file(w["rn"], SYSTEM)
        files.set_fitness(acc, False, "Brancard", None)
        session().commit()
        with pytest.raises(Blocked):
            move(get_detainee(w["rn"], SYSTEM), get_by_code("EST-B"), SYSTEM)
        session().rollback()
        hfile = session().scalar(
            select(HealthFile).where(HealthFile.detainee_id == w["detainee_id"])
        )
        assert hfile.establishment_id == get_by_code("EST-A").id


def test_unfit_blocks_moves_but_not_a_hospital_move_and_expires(app, factories):
    w = world(app, factories)
    with app.app_context():
        det = get_detainee(w["rn"], SYSTEM)
        doctor = session().merge(w["doctor"])
        acc = open_file(w["rn"], doctor)
        files.set_fitness(acc, False, "Oxygène", dt.date.today() + dt.timedelta(days=2))
        origin, dest = get_by_code("EST-A"), get_by_code("EST-B")
        ctx = MoveContext(det, origin, dest, SYSTEM, kind="transfer")
        [blocker] = files.transfer_blockers(det, ctx)
        assert blocker.code == "unfit_to_travel" and not blocker.overridable
        assert doctor.full_name in str(blocker.message)
        assert (
            files.transfer_blockers(det, MoveContext(det, origin, dest, SYSTEM, kind="hospital"))
            == []
        )
        later = MoveContext(det, origin, dest, SYSTEM, date=dt.date.today() + dt.timedelta(days=3))
        assert files.transfer_blockers(det, later) == []


def test_the_escort_learns_fitness_and_needs_never_a_diagnosis(app, factories):
    w = world(app, factories)
    with app.app_context():
        acc = open_file(w["rn"], SYSTEM)
        consultations.create(acc, reason="x", notes="Tuberculose active", diagnosis="Tuberculose")
        files.set_fitness(acc, True, "Masque FFP2 pendant le trajet", None)
        escort = files.escort_health(get_detainee(w["rn"], SYSTEM))
        assert isinstance(escort, EscortHealth)
        assert escort.fit_to_travel is True and escort.needs == "Masque FFP2 pendant le trajet"
        assert "Tuberculose" not in repr(escort)
        # the hook answers through the plugin manager (transfers publishes it when installed)
        from core.plugins import get_plugin_manager

        health = get_plugin_manager().get_plugin("health")
        assert health.transfers_escort_health(get_detainee(w["rn"], SYSTEM)) == escort
        [category] = health.complaints_categories()
        assert category.code == "health.care" and category.office == "doctor"


class FakeTransfers:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def request_move(self, actor, registration_number, *, destination, kind, reason, note=""):
        self.calls.append((registration_number, destination, kind, reason))
        return TransferRef(id=4242, status="requested")

    def active_transfer(self, registration_number):
        return None


FAKE = FakeTransfers()


class FakeTransfersPlugin:
    PLUGIN_NAME = "faketransfers"

    @hookimpl
    def plugin_services(self):
        return [ServicePort(TRANSFER_REQUESTS, TransferRequests, FAKE)]


def test_hospital_referral_asks_transfers_through_the_port(app, make_app, factories):
    w = world(app, factories)
    import importlib.metadata as md

    # every installed module but transfers (which provides the real port)
    loaded = [ep.load() for ep in md.entry_points(group="idmaj.plugins") if ep.name != "transfers"]
    without = make_app(loaded, rolled_back=True)
    with without.app_context():
        assert care.hospital_moves_available() is False
    other = make_app([*loaded, FakeTransfersPlugin()], rolled_back=True)
    with other.app_context():
        assert care.hospital_moves_available() is True
        doctor = session().merge(w["doctor"])
        acc = open_file(w["rn"], doctor)
        ref = care.refer(acc, hospital="CHU Ibn Rochd", reason="Souffle", urgent=True)
        care.ask_hospital_move(acc, ref.id, "EST-B")
        session().commit()
        assert FAKE.calls[-1] == (w["rn"], "EST-B", "hospital", "medical")
        assert care.get_referral(acc, ref.id).transfer_id == 4242
        with pytest.raises(Conflict):
            care.ask_hospital_move(acc, ref.id, "EST-B")
        session().rollback()
    with without.test_client() as c:
        from core.testing import TEST_PASSWORD

        c.post("/login", data={"username": w["doctor"].username, "password": TEST_PASSWORD})
        # without the transfers module the button and its page are absent
        assert c.get(f"/health/files/{w['rn']}/referrals/1/move").status_code == 404
        assert b"health-ask-move" not in c.get(f"/health/files/{w['rn']}").data


def test_state_machines_and_doses(app, factories):
    w = world(app, factories)
    with app.app_context():
        nurse = session().merge(w["nurse"])
        doctor = session().merge(w["doctor"])
        n_acc = open_file(w["rn"], nurse)
        d_acc = open_file(w["rn"], doctor)
        p = prescriptions.create(
            n_acc,
            medication="Paracétamol",
            dosage="1 g",
            times="0:30, 23:30",
            starts_on=today_local(),
        )
        with pytest.raises(Forbidden):
            prescriptions.sign(n_acc, p.id)
        due = local_time(today_local(), "00:30")
        with pytest.raises(ValidationFailed):  # a draft has no dose due
            prescriptions.record_dose(n_acc, p.id, due, "given")
        prescriptions.sign(d_acc, p.id)
        with pytest.raises(Conflict):
            prescriptions.sign(d_acc, p.id)
        prescriptions.record_dose(n_acc, p.id, due, "given")
        with pytest.raises(Conflict):
            prescriptions.record_dose(n_acc, p.id, due, "refused")
        with pytest.raises(ValidationFailed):
            prescriptions.record_dose(n_acc, p.id, local_time(today_local(), "12:00"), "given")
        with pytest.raises(ValidationFailed):
            prescriptions.record_dose(n_acc, p.id, due + dt.timedelta(days=3), "given")
        with pytest.raises(ValidationFailed):
            prescriptions.create(n_acc, medication="x", dosage="y", times="25:00")
        c = consultations.create(n_acc, **{k: v for k, v in CONSULTATION.items()})
        consultations.update_draft(n_acc, c.id, notes="Notes corrigées")
        consultations.sign_consultation(n_acc, c.id)
        with pytest.raises(Conflict):
            consultations.update_draft(n_acc, c.id, notes="Encore")
        appt = care.book(
            n_acc, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), purpose="Contrôle"
        )
        with pytest.raises(Conflict):
            care.set_appointment_status(n_acc, appt.id, "done")
        care.set_appointment_status(n_acc, appt.id, "checked_in")
        care.set_appointment_status(n_acc, appt.id, "done")
        with pytest.raises(Conflict):
            care.set_appointment_status(n_acc, appt.id, "cancelled")
        with pytest.raises(ValidationFailed):
            care.book(n_acc, starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), purpose="x")
        with pytest.raises(NotFound):
            care.set_appointment_status(n_acc, 999999, "done")


def test_counts_and_ratio(app, factories):
    w = world(app, factories)
    with app.app_context():
        est = get_by_code("EST-A")
        [ratio] = care.doctor_ratios([est])
        assert ratio.doctors == 2 and ratio.population >= 1  # the doctor and the head doctor
        figures = care.figures([est.id])
        assert figures.files >= 1
        acc = open_file(w["rn"], SYSTEM)
        prescriptions.sign(
            acc,
            prescriptions.create(
                acc, medication="M", dosage="1", times="00:00", starts_on=today_local()
            ).id,
        )
        midnight = local_time(today_local(), "00:00")
        expected = 1 if midnight + prescriptions.LATE_AFTER < dt.datetime.now(dt.UTC) else 0
        assert care.figures([est.id]).doses_missed == expected


def test_widget_for_care_team_and_director_not_for_clerks(app, client, factories):
    from core.testing import TEST_PASSWORD

    world(app, factories)
    for role, shown in (("nurse", True), ("director", True), ("registry_clerk", False)):
        with app.app_context():
            user = factories.user(role, ("EST-A",))
        c = app.test_client()
        c.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        page = c.get("/dashboard").data
        assert (b'data-testid="health-widget-overdue"' in page) is shown, role
