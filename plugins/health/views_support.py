"""The portal pieces: the dashboard widget (counts) and the profile panel (clinicians of the
detainee's establishment only: alerts, with the read audited)."""

from __future__ import annotations

from typing import Any

from core.contributions import Panel, Widget
from core.errors import DomainError
from core.i18n import lazy_gettext as _l
from core.identity.services import has_permission
from core.scoping import establishment_ids
from plugins.health.permissions import STATS


def dashboard_widget(user: Any) -> Widget | None:
    """Screenings overdue, appointments today, doses missed: for the care team and directors
    (counts only), over the establishments they see."""
    from plugins.health.services import access, care

    if not has_permission(user, STATS):
        return None
    ids = establishment_ids(user)
    if ids is None:
        from sqlalchemy import select

        from core.db import session
        from core.establishments.models import Establishment

        ids = frozenset(session().scalars(select(Establishment.id)))
    return Widget(
        key="health",
        title=_l("Health"),
        template="health/widget.html",
        context={
            "health": care.figures(sorted(ids)),
            "health_clinician": access.is_clinician(user),
        },
        order=50,
    )


def profile_panel(detainee: Any, user: Any) -> Panel | None:
    from plugins.health.services import access, overview

    if not access.in_care_team(user, detainee.establishment_id):
        return None
    try:
        acc = access.open_file(detainee.registration_number, user, what="panel")
    except DomainError:
        return None
    return Panel(
        key="health",
        title=_l("Health file"),
        template="health/panel.html",
        context={"health_alerts": overview.alerts(acc), "health_rn": detainee.registration_number},
        order=45,
    )
