"""At rest: no clinical plain text in any row (nor in the audit trail), key rotation, the
content hash of signed records, the change history, the production key check."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import text

from core.db import metadata, session
from core.principals import SYSTEM
from plugins.health import crypto
from plugins.health.models import Change
from plugins.health.services import consultations, files, lists, prescriptions
from plugins.health.services.access import open_file
from plugins.health.services.rotation import rotate_all

SECRET = "SECRETWORD"


def _fill(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A")
        acc = open_file(det.registration_number, SYSTEM)
        files.record_screening(
            acc,
            {
                "tuberculosis": "suspected",
                "self_harm_risk": "high",
                "pregnancy": "not_applicable",
                "chronic_conditions": f"{SECRET} diabète",
                "addictions": f"{SECRET} cannabis",
                "mental_health": f"{SECRET} dépression",
                "notes": SECRET,
            },
        )
        lists.add_allergy(acc, "drug", f"{SECRET}-penicilline", f"{SECRET} urticaire", "high")
        lists.add_problem(acc, f"{SECRET} hypertension")
        c = consultations.create(
            acc, reason=SECRET, notes=f"{SECRET} notes", diagnosis=f"{SECRET} dx", sign=True
        )
        consultations.add_addendum(acc, c.id, f"{SECRET} addendum")
        p = prescriptions.create(acc, medication=f"{SECRET}-med", dosage="1", times="08:00")
        files.set_fitness(acc, False, f"{SECRET} oxygen", None)
        lists.add_vaccination(acc, f"{SECRET} BCG", dt.date(2020, 1, 1))
        session().commit()
        return det.registration_number, c.id, p.id


def _raw_cells(app):
    with app.app_context():
        conn = session().connection()
        for table in sorted(metadata.tables):
            if not table.startswith("health_"):
                continue
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for cell in row:
                    yield table, cell


def test_raw_rows_hold_no_clinical_plain_text(app, factories):
    _fill(app, factories)
    cells = list(_raw_cells(app))
    assert any(t == "health_consultations" for t, _c in cells)
    leaks = [(t, c) for t, c in cells if isinstance(c, str) and SECRET in c]
    assert not leaks, leaks
    with app.app_context():
        summaries = session().execute(text("SELECT summary FROM core_audit_events")).all()
        assert not any(SECRET in str(s) for (s,) in summaries)
        # the history's old / new values are encrypted too, and readable through the model
        changes = session().query(Change).all()
        assert any(SECRET in (c.new_value or "") for c in changes)


def test_key_rotation_re_encrypts_everything(app, factories):
    _fill(app, factories)
    old = app.extensions[crypto.EXTENSION]
    new_key = Fernet.generate_key()
    rotated = crypto.HealthKeys([new_key, crypto.DEV_KEY])
    try:
        app.extensions[crypto.EXTENSION] = rotated
        with app.app_context():
            result = rotate_all(batch=3)
            assert result.rotated > 10 and result.already == 0
            assert rotate_all().rotated == 0  # idempotent
        # the old key is no longer needed
        app.extensions[crypto.EXTENSION] = crypto.HealthKeys([new_key])
        with app.app_context():
            session().expire_all()
            notes = [c.notes for c in session().query(consultations.Consultation).all()]
            assert any(SECRET in n for n in notes)
    finally:
        app.extensions[crypto.EXTENSION] = old


def test_rotate_key_command(app, factories):
    _fill(app, factories)
    from flask.cli import ScriptInfo

    from plugins.health.cli import health

    result = CliRunner().invoke(health, ["rotate-key"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "re-encrypted" in result.output


def test_a_signed_consultation_altered_in_the_database_is_flagged(
    app, client, factories, api_headers
):
    rn, cid, _pid = _fill(app, factories)
    with app.app_context():
        doctor = factories.user("doctor", ("EST-A",))
        forged = crypto.encrypt("Rien à signaler")
        session().execute(
            text("UPDATE health_consultations SET notes = :v WHERE id = :id"),
            {"v": forged, "id": cid},
        )
        session().commit()
    body = client.get(f"/api/v1/health/files/{rn}", headers=api_headers(doctor)).json
    shown = next(c for c in body["consultations"] if c["id"] == cid)
    assert shown["intact"] is False
    from core.testing import TEST_PASSWORD

    client.post("/login", data={"username": doctor.username, "password": TEST_PASSWORD})
    page = client.get(f"/health/files/{rn}/consultations/{cid}")
    assert b'data-testid="health-altered"' in page.data


def test_signed_prescription_hash_checked(app, factories):
    rn, _cid, pid = _fill(app, factories)
    with app.app_context():
        acc = open_file(rn, SYSTEM)
        p = prescriptions.sign(acc, pid)
        session().commit()
        assert prescriptions.intact(p) is True
        session().execute(
            text("UPDATE health_prescriptions SET dosage = :v WHERE id = :id"),
            {"v": crypto.encrypt("10 comprimés"), "id": pid},
        )
        session().expire_all()
        assert prescriptions.intact(prescriptions.get(acc, pid)) is False


def test_production_refuses_to_start_without_a_key(monkeypatch):
    monkeypatch.delenv(crypto.ENV_KEYS, raising=False)
    with pytest.raises(crypto.HealthKeyMissing, match="IDMAJ_HEALTH_KEYS"):
        crypto.keys_from_config({"PRODUCTION": True, "TESTING": False})
    with pytest.raises(crypto.HealthKeyMissing, match="not a Fernet key"):
        crypto.keys_from_config({"HEALTH_KEYS": "not-a-key"})
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(crypto.ENV_KEYS, key)
    keys = crypto.keys_from_config({"PRODUCTION": True})
    assert not keys.development and keys.decrypt(keys.encrypt("x")) == "x"
    assert crypto.keys_from_config({"PRODUCTION": False, "TESTING": True}).development is False


def test_history_keeps_who_when_where_old_and_new(app, factories):
    rn, _cid, _pid = _fill(app, factories)
    with app.app_context():
        doctor = factories.user("doctor", ("EST-A",))
        acc = open_file(rn, doctor)
        files.set_fitness(acc, True, "", None)
        session().commit()
        rows, total = lists.history(acc, 1, 50)
        fit = next(r for r in rows if r.field == "fit_to_travel")
        assert (fit.old_value, fit.new_value) == ("False", "True")
        assert fit.actor_username == doctor.username
        assert fit.establishment_id == acc.file.establishment_id
        assert fit.changed_at is not None and total >= 3
