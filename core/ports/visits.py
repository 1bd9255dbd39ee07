"""The ``visits.family_links`` port: whether a family member is linked to a detainee, asked
without importing the visits module (remote purchasing lets only a linked family order).

Declared in the core so that callers import it without importing visits; the visits plugin
provides it (``plugins/visits/ports.py``): a link is a relation the visits office approved.
Check :func:`core.ports.has_port` first and hide the feature when visits is not installed::

    from core.ports import has_port, port
    from core.ports.visits import FAMILY_LINKS, FamilyLinks

    if has_port(FAMILY_LINKS):
        links = port(FAMILY_LINKS, FamilyLinks)
        if links.is_linked(visitor, detainee):
            ...

Both methods only read, in the caller's transaction; they do not check permissions (the
caller asks about the signed-in family member, or as ``SYSTEM``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from core.detainees.models import Detainee
    from core.identity.models import User

FAMILY_LINKS = "visits.family_links"


@runtime_checkable
class FamilyLinks(Protocol):
    """The links between family accounts and detainees, approved by the visits office."""

    def is_linked(self, visitor: User, detainee: Detainee) -> bool:
        """Whether ``visitor`` has an approved link to ``detainee`` (a pending, rejected or
        withdrawn request is no link)."""
        ...

    def linked_detainees(self, visitor: User) -> list[Detainee]:
        """The detainees ``visitor`` is linked to (approved), released ones included, in the
        order the links were made."""
        ...


__all__ = ["FAMILY_LINKS", "FamilyLinks"]
