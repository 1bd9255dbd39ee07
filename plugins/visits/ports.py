"""The services visits offers other modules (``plugin_services``): the ``visits.family_links``
port (:mod:`core.ports.visits`), a thin read of the visits office's approved relations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.contributions import ServicePort
from core.ports.visits import FAMILY_LINKS, FamilyLinks

if TYPE_CHECKING:
    from core.detainees.models import Detainee
    from core.identity.models import User


class FamilyLinksPort:
    """:class:`core.ports.visits.FamilyLinks`, answered from ``visits_relations``."""

    def is_linked(self, visitor: User, detainee: Detainee) -> bool:
        from plugins.visits.services.relations import approved_relation

        if visitor is None or detainee is None or getattr(visitor, "id", None) is None:
            return False
        return approved_relation(visitor.id, detainee.id) is not None

    def linked_detainees(self, visitor: User) -> list[Detainee]:
        from sqlalchemy import select

        from core.db import session as db_session
        from plugins.visits.models import Relation, RelationStatus

        if visitor is None or getattr(visitor, "id", None) is None:
            return []
        rows = db_session().scalars(
            select(Relation)
            .where(Relation.visitor_id == visitor.id, Relation.status == RelationStatus.approved)
            .order_by(Relation.id)
        )
        return [r.detainee for r in rows]


def service_ports() -> list[ServicePort]:
    return [ServicePort(FAMILY_LINKS, FamilyLinks, FamilyLinksPort())]
