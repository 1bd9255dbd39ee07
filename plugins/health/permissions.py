"""The health permissions, their default grants, and the roles the module adds.

A permission is necessary, never sufficient: the contents of a file reach only the care team
(:data:`CARE_ROLES` at the detainee's current establishment, or under emergency access),
whatever an administrator grants (``services/access.py``).
"""

from __future__ import annotations

from core.contributions import Permission, Role
from core.i18n import lazy_gettext as _l

READ = "health.read"
WRITE = "health.write"
SIGN = "health.sign"
FITNESS = "health.fitness"
EMERGENCY = "health.emergency"
STATS = "health.stats"
ACCESS_LOG = "health.access_log"
UNITS = "health.units"

HEAD_DOCTOR = "head_doctor"
MEDICAL_INSPECTOR = "medical_inspector"
#: the care team: who may read and write a file of their establishment
CARE_ROLES = frozenset({"doctor", "nurse", HEAD_DOCTOR})
#: who may sign prescriptions and decide fitness to travel
DOCTOR_ROLES = frozenset({"doctor", HEAD_DOCTOR})
#: who may ask for emergency access to another establishment's file
EMERGENCY_ROLES = CARE_ROLES | {MEDICAL_INSPECTOR}

ROLES: list[Role] = [
    Role(
        HEAD_DOCTOR,
        {"ar": "رئيس المصلحة الطبية", "fr": "Médecin-chef", "en": "Head doctor"},
    ),
    Role(
        MEDICAL_INSPECTOR,
        {"ar": "المفتش الطبي", "fr": "Inspecteur médical", "en": "Medical inspector"},
    ),
]

PERMISSIONS: list[Permission] = [
    Permission(READ, _l("Read health files (care team)"), ("doctor", "nurse", HEAD_DOCTOR)),
    Permission(WRITE, _l("Write in health files (care team)"), ("doctor", "nurse", HEAD_DOCTOR)),
    Permission(SIGN, _l("Sign prescriptions"), ("doctor", HEAD_DOCTOR)),
    Permission(FITNESS, _l("Decide fitness to travel"), ("doctor", HEAD_DOCTOR)),
    Permission(
        EMERGENCY,
        _l("Open another establishment's health file in an emergency"),
        ("doctor", "nurse", HEAD_DOCTOR, MEDICAL_INSPECTOR),
    ),
    Permission(
        STATS,
        _l("See health figures (counts, never contents)"),
        ("director", "central_admin", HEAD_DOCTOR, "doctor", "nurse"),
    ),
    Permission(
        ACCESS_LOG,
        _l("See who opened a health file"),
        ("doctor", "nurse", HEAD_DOCTOR, "auditor", "central_admin"),
    ),
    Permission(UNITS, _l("Manage medical units"), (HEAD_DOCTOR, "director", "central_admin")),
]
