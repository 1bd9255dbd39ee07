"""Health file benchmark (not a test): ``python -m bench.health_file_bench
[--backend sqlite|postgresql] [--consultations 200] [--opens 100]``.

Builds one detainee's file with N signed consultations (each with reason, notes, diagnosis and
vitals encrypted, and its content hash), a few allergies, problems and prescriptions, then
times, as the detainee's doctor:

- ``open``: :func:`open_file` alone — the scoped lookup, the access check, the audit event
  (sensitive read) and the access-log line, committed;
- ``api``: ``GET /api/v1/health/files/{rn}`` through the test client — the open plus the
  decryption of every consultation (four Fernet values each), the hash check of each signed
  record and the JSON;
- ``page``: ``GET /health/files/{rn}`` (the overview: alerts, lists, the five latest
  consultations);
- ``decrypt``: one Fernet decryption, for scale.

Figures go to stdout; docs/performance.md keeps the latest ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from core.principals import SYSTEM


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _report(name: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<10} n={len(ms):>5}  median {statistics.median(ms):8.3f} ms  "
        f"p95 {_pct(ms, 0.95):8.3f} ms  max {max(ms):8.3f} ms"
    )


def build(app: Any, n: int) -> tuple[str, Any]:
    from core.db import session
    from core.testing import Factories
    from plugins.health.services import consultations, lists, prescriptions
    from plugins.health.services.access import open_file

    with app.app_context():
        factories = Factories(app)
        factories.establishment("BEN-A")
        det = factories.detainee("BEN-A")
        doctor = factories.user("doctor", ("BEN-A",), username="bench.doctor")
        acc = open_file(det.registration_number, SYSTEM)
        for i in range(n):
            consultations.create(
                acc,
                reason=f"Consultation de suivi {i}",
                notes="Patient vu ce jour, examen clinique sans particularité. " * 4,
                diagnosis="Hypertension artérielle équilibrée",
                vitals={"temperature": "37.1", "pulse": 72, "systolic": 128, "diastolic": 82},
                sign=True,
            )
            if i % 50 == 49:
                session().commit()
        lists.add_allergy(acc, "drug", "Pénicilline", "Urticaire", "high")
        lists.add_problem(acc, "Hypertension artérielle")
        for med in ("Amlodipine 5 mg", "Metformine 850 mg"):
            p = prescriptions.create(acc, medication=med, dosage="1 cp", times="08:00")
            prescriptions.sign(acc, p.id)
        session().commit()
        return det.registration_number, doctor


def measure(app: Any, rn: str, doctor: Any, opens: int) -> None:
    from core.db import session
    from core.principals import acting_as
    from core.testing import TEST_PASSWORD
    from plugins.health import crypto
    from plugins.health.services.access import open_file

    samples: list[float] = []
    with app.app_context():
        user = session().merge(doctor)
        for _ in range(opens):
            start = time.perf_counter()
            with acting_as(user):
                open_file(rn, user)
            session().commit()
            samples.append(time.perf_counter() - start)
    _report("open", samples)

    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token", json={"username": doctor.username, "password": TEST_PASSWORD}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for _ in range(opens):
        start = time.perf_counter()
        resp = client.get(f"/api/v1/health/files/{rn}", headers=headers)
        samples.append(time.perf_counter() - start)
        assert resp.status_code == 200 and len(resp.json["consultations"]) >= 1
    _report("api", samples)
    print(f"           consultations in the answer: {len(resp.json['consultations'])}")

    client.post("/login", data={"username": doctor.username, "password": TEST_PASSWORD})
    samples = []
    for _ in range(opens):
        start = time.perf_counter()
        resp = client.get(f"/health/files/{rn}")
        samples.append(time.perf_counter() - start)
        assert resp.status_code == 200
    _report("page", samples)

    with app.app_context():
        token = crypto.encrypt("Patient vu ce jour, examen clinique sans particularité. " * 4)
        samples = []
        for _ in range(2000):
            start = time.perf_counter()
            crypto.decrypt(token)
            samples.append(time.perf_counter() - start)
    _report("decrypt", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--consultations", type=int, default=200)
    parser.add_argument("--opens", type=int, default=100)
    args = parser.parse_args()
    os.environ["IDMAJ_TEST_BACKEND"] = args.backend
    from core.testing import TestDatabase, build_migrated_app

    with tempfile.TemporaryDirectory(prefix="health-bench-") as tmp:
        database = TestDatabase(Path(tmp))
        try:
            app = build_migrated_app(database.url, Path(tmp))
            app.config["RATELIMIT_ENABLED"] = False
            start = time.perf_counter()
            rn, doctor = build(app, args.consultations)
            print(
                f"backend {args.backend}: file with {args.consultations} signed consultations "
                f"built in {time.perf_counter() - start:.1f} s"
            )
            measure(app, rn, doctor, args.opens)
            app.extensions["idmaj.db"].dispose()
        finally:
            database.drop()


if __name__ == "__main__":
    main()
