"""The file overview page reads its sections in a bounded number of SQL statements, whatever
the file holds (no query per row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event as sa_event

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.health.tests.helpers import world


def _fill(app: Any, w: dict[str, Any], n: int) -> None:
    from plugins.health.services import care, consultations, files, lists, prescriptions
    from plugins.health.services.access import open_file

    with app.app_context():
        acc = open_file(w["rn"], w["doctor"], what="file", write=True)
        files.record_screening(
            acc, {"tuberculosis": "negative", "self_harm_risk": "none", "pregnancy": "no"}
        )
        for i in range(n):
            lists.add_allergy(acc, "drug", f"Substance {i}", "Urticaire", "high")
            lists.add_problem(acc, f"Problème {i}")
            lists.add_vaccination(acc, f"Vaccin {i}", dt.date.today(), "1", "")
            c = consultations.create(acc, reason=f"Motif {i}", notes="Notes", sign=True)
            consultations.add_addendum(acc, c.id, "Complément")
            p = prescriptions.create(
                acc, medication=f"Médicament {i}", dosage="1 cp", times="00:00,23:59"
            )
            prescriptions.sign(acc, p.id)
            due = [d for d in prescriptions.due_doses(acc) if d.prescription.id == p.id]
            prescriptions.record_dose(acc, p.id, due[0].due_at, "given")
            care.refer(acc, hospital=f"CHU {i}", reason="Avis")
            care.book(
                acc,
                starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2 + i),
                purpose="Contrôle",
            )
        files.set_fitness(acc, True, "", None)
        session().commit()


def statements_of_page(app: Any, client: Any, url: str) -> list[str]:
    engine = app.extensions["idmaj.db"].engine
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        resp = client.get(url)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    assert resp.status_code == 200, resp.data[:500]
    return seen


def test_the_overview_page_does_not_query_per_row(app, client, factories):
    w = world(app, factories)
    _fill(app, w, 2)
    client.post("/login", data={"username": w["doctor"].username, "password": TEST_PASSWORD})
    url = f"/health/files/{w['rn']}"
    client.get(url)  # warm caches (roles, settings)
    small = statements_of_page(app, client, url)
    _fill(app, w, 4)
    large = statements_of_page(app, client, url)
    assert len(large) == len(small), (len(small), len(large))
    health_reads = [s for s in large if s.startswith("SELECT health_")]
    assert len(health_reads) <= HEALTH_READS, "\n".join(health_reads)
    # each section once: no table read twice
    tables = [s.split(" FROM ", 1)[1].split()[0] for s in health_reads]
    assert len(tables) == len(set(tables)), tables


#: the file, appointments, consultations (with their total), allergies, problems,
#: prescriptions, today's doses, the latest screening, its last correction, vaccinations,
#: referrals (docs/performance.md: 17 before, when the alerts read their lists again)
HEALTH_READS = 11
