"""Vetoes are data: what stops a release or a move, who says so, and whether a director may
override it.

Modules implement ``release_blockers(detainee, context)`` and
``transfer_blockers(detainee, destination, context)`` (``core/hookspecs.py``) and return
:class:`Blocker` values. The core asks every module at once (:func:`ask`), and the page and the
API show all the blockers together: ``422 {"error": {"code": "blocked", "fields":
{"blockers": [{code, module, message, overridable}, ...]}}}``.

A director (permission ``detainees.override_blockers``) may go ahead over blockers that are
all ``overridable``; the override and the blockers it passed are audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from core.errors import Blocked
from core.i18n import lazy_gettext as _l
from core.plugins import PluginError, get_plugin_manager

if TYPE_CHECKING:
    from core.detainees.models import Detainee
    from core.establishments.models import Establishment
    from core.principals import Principal

MOVE_KINDS = ("transfer", "court", "hospital", "handover")


@dataclass(frozen=True)
class Blocker:
    """One reason why an action cannot happen now.

    :param code: stable snake_case code (``money_on_hold``), for programs and tests.
    :param module: the module that vetoes (its plugin name; the core fills it in when empty).
    :param message: localised text for people (a lazy gettext string).
    :param overridable: a director may decide to go ahead anyway.
    """

    code: str
    module: str
    message: Any
    overridable: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "module": self.module,
            "message": str(self.message),
            "overridable": self.overridable,
        }


@dataclass(frozen=True)
class ReleaseContext:
    """What a module is asked about when a detainee is to be released."""

    detainee: Detainee
    actor: Principal
    date: dt.date
    note: str = ""


@dataclass(frozen=True)
class MoveContext:
    """What a module is asked about when a detainee is to be moved.

    :param kind: ``transfer`` (to be held there), ``court``, ``hospital`` or ``handover``.
    :param reason: the transfer's reason code (``security``, ``medical``…), or ``""``.
    :param date: the day the move is planned for (today for an immediate move).
    """

    detainee: Detainee
    origin: Establishment
    destination: Establishment
    actor: Principal
    kind: str = "transfer"
    reason: str = ""
    date: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())


def ask(hook_name: str, **kwargs: Any) -> list[Blocker]:
    """Ask every module implementing the veto hook ``hook_name``; return their blockers,
    each stamped with the module's name. A module that returns something other than
    :class:`Blocker` values is a programming error, named."""
    pm = get_plugin_manager()
    caller = getattr(pm.hook, hook_name)
    blockers: list[Blocker] = []
    for impl in reversed(caller.get_hookimpls()):
        # one implementation at a time, through the manager (so IDMAJ_TRACE_HOOKS shows it),
        # to know which module each blocker comes from
        args = {name: kwargs[name] for name in impl.argnames}
        for result in pm._hookexec(hook_name, [impl], args, False):
            for item in result or ():
                if not isinstance(item, Blocker):
                    raise PluginError(
                        f"plugin {impl.plugin_name!r}: {hook_name} must return Blocker values, "
                        f"got {type(item).__name__}"
                    )
                blockers.append(item if item.module else replace(item, module=impl.plugin_name))
    return sorted(blockers, key=lambda b: (b.module, b.code))


def may_override(actor: Any, blockers: Sequence[Blocker]) -> bool:
    """True when every blocker is overridable and the actor may override blockers."""
    from core.identity.services import has_permission

    return (
        bool(blockers)
        and all(b.overridable for b in blockers)
        and has_permission(actor, "detainees.override_blockers")
    )


def check(
    hook_name: str,
    message: Any,
    actor: Any,
    *,
    override: bool = False,
    waived: Collection[tuple[str, str]] = (),
    **kwargs: Any,
) -> list[Blocker]:
    """Ask the modules; raise :class:`Blocked` unless nothing blocks, or the actor overrides
    blockers that are all overridable. Returns the blockers that were overridden.

    ``waived`` names ``(module, code)`` pairs someone allowed to already decided to go ahead
    over (the transfers module records a director's override on the transfer, and the
    officer who completes it later does not hold the permission): an *overridable* blocker
    named there does not stop the action and is returned as overridden."""
    blockers = ask(hook_name, **kwargs)
    if not blockers:
        return []
    if waived:
        passed = [b for b in blockers if b.overridable and (b.module, b.code) in waived]
        if len(passed) == len(blockers):
            return passed
    if override and may_override(actor, blockers):
        return blockers
    raise Blocked(message, blockers)


RELEASE_BLOCKED = _l("The release is blocked.")
MOVE_BLOCKED = _l("The transfer is blocked.")

__all__ = [
    "MOVE_BLOCKED",
    "MOVE_KINDS",
    "RELEASE_BLOCKED",
    "Blocked",
    "Blocker",
    "MoveContext",
    "ReleaseContext",
    "ask",
    "check",
    "may_override",
]
