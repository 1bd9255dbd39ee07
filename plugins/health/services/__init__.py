"""Every rule of the health files. Services never commit.

The files of this package, by responsibility:

- ``access`` — who may open a file (the care team, emergency access through the core's audited
  bypass), the audit event and access-log line of every read, the access log.
- ``common`` — text checks, the conditional state transitions, the change history, the
  module's audit events (never clinical text).
- ``files`` — opening at admission, the arrival screening and its overdue list, fitness to
  travel (the transfer veto, the escort's needs), the hand-over on transfer.
- ``lists`` — allergies, problems, vaccinations, the history page.
- ``consultations`` — consultations, signing (content hash), addenda.
- ``prescriptions`` — prescriptions (a doctor signs), doses given / refused / missed.
- ``care`` — referrals (a hospital move through the transfers port), appointments, medical
  units, the detainees-per-doctor ratio, the dashboard's counts.
- ``overview`` — a file's alerts and its JSON.
- ``localtime`` — local days.

Lock order: a health write never changes where a detainee is held, so it takes no detainee
lock; its invariants live in the database (one file per detainee, one record per due dose,
conditional status updates). The transfer hand-over runs inside the core's move, after the
detainee's lock.
"""

from __future__ import annotations

from plugins.health.services import (
    access,
    care,
    common,
    consultations,
    files,
    lists,
    overview,
    prescriptions,
)
from plugins.health.services.access import FileAccess, grant_emergency, open_file

__all__ = [
    "FileAccess",
    "access",
    "care",
    "common",
    "consultations",
    "files",
    "grant_emergency",
    "lists",
    "open_file",
    "overview",
    "prescriptions",
]
