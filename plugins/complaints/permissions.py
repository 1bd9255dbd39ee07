"""The complaints permissions and their default role grants.

- ``complaints.file``: file a complaint (a family member about a linked detainee; staff on a
  detainee's behalf, with the channel).
- ``complaints.manage``: see and handle every complaint of one's establishments (except the
  confidential ones) — the complaints office and the director.
- ``complaints.handle``: see and handle the complaints routed to one's own office (a role named
  by the category: visits office, accountant…).
- ``complaints.confidential``: see and handle confidential complaints (the director).
- ``complaints.appeals``: review appeals at the central level, everywhere.
- ``complaints.regional``: review the appeals of one's region (the establishments one is
  assigned): the role ``regional_complaints_reviewer`` (a user with several establishments is
  the region); answer them or refer them up to the central level.
- ``complaints.figures``: the figures page; ``complaints.export``: its CSV export.
- ``complaints.calendar``: keep the national calendar of public holidays.
"""

from __future__ import annotations

from core.contributions import Permission, Role
from core.i18n import lazy_gettext as _l

FILE = "complaints.file"
MANAGE = "complaints.manage"
HANDLE = "complaints.handle"
CONFIDENTIAL = "complaints.confidential"
APPEALS = "complaints.appeals"
FIGURES = "complaints.figures"
EXPORT = "complaints.export"
CALENDAR = "complaints.calendar"
REGIONAL = "complaints.regional"

REGIONAL_REVIEWER = "regional_complaints_reviewer"

ROLES: list[Role] = [
    Role(
        REGIONAL_REVIEWER,
        {
            "ar": "مراجع التظلمات الجهوي",
            "fr": "Réviseur régional des plaintes",
            "en": "Regional complaints reviewer",
        },
    ),
]

PERMISSIONS: list[Permission] = [
    Permission(
        FILE,
        _l("File complaints"),
        ("visitor", "complaints_officer", "director", "visits_officer"),
    ),
    Permission(
        MANAGE,
        _l("Handle every complaint of the establishment"),
        ("complaints_officer", "director"),
    ),
    Permission(
        HANDLE,
        _l("Handle the complaints routed to one's office"),
        ("visits_officer", "accountant", "transfers_officer", "doctor", "nurse"),
    ),
    Permission(CONFIDENTIAL, _l("Handle confidential complaints"), ("director",)),
    Permission(APPEALS, _l("Review appeals of complaints"), ("central_admin",)),
    Permission(
        REGIONAL, _l("Review the appeals of complaints of one's region"), (REGIONAL_REVIEWER,)
    ),
    Permission(
        FIGURES,
        _l("See the complaints figures"),
        ("central_admin", "director", "complaints_officer", "auditor"),
    ),
    Permission(EXPORT, _l("Export the complaints figures"), ("central_admin",)),
    Permission(CALENDAR, _l("Keep the calendar of public holidays"), ("central_admin",)),
]
