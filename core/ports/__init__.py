"""Service ports: one module asks another to act without importing it.

A provider registers an object under a key through the ``plugin_services`` hook
(:class:`core.contributions.ServicePort`); the object must satisfy a runtime-checkable
``typing.Protocol`` declared by the core (``core/ports/<module>.py``, e.g.
:mod:`core.ports.funds`) or published by the provider. A caller looks it up by key::

    from core.ports import has_port, port
    from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts

    if has_port(FUNDS_ACCOUNTS):  # hide the feature when no module provides it
        receipt = port(FUNDS_ACCOUNTS, FundsAccounts).debit(actor, rn, amount, memo, ref)

The call is a plain method call: it uses ``core.db.session()`` like everything else, so it
runs in the caller's transaction and commits or rolls back with it. The ports of an app are
checked once at start-up (:func:`build_port_registry`) and kept in
``app.extensions["idmaj.ports"]``, never in a module global.

Hooks are for "tell everyone" and "ask everyone"; ports are for "ask the one who owns it".
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import Flask, current_app

from core.contributions import ServicePort
from core.errors import DomainError
from core.i18n import lazy_gettext as _l
from core.plugins import IdmajPluginManager, PluginError

T = TypeVar("T")
EXTENSION = "idmaj.ports"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class PortUnavailable(DomainError):
    """No installed module provides the port (or not with the interface asked for): 503.

    Check :func:`has_port` first to hide the feature instead.
    """

    status = 503
    default_code = "service_unavailable"

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(
            _l("This service is not available: no installed module provides %(key)s.", key=key)
        )
        self.key = key
        self.reason = reason or f"no installed plugin provides the service port {key!r}"

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ProvidedPort:
    """A port as registered in one app: its key, interface, object, and the plugin behind it."""

    key: str
    protocol: type
    implementation: Any
    provider: str


class PortRegistry:
    """The ports of one app, by key (``app.extensions["idmaj.ports"]``)."""

    def __init__(self, ports: Mapping[str, ProvidedPort] | None = None) -> None:
        self._ports: dict[str, ProvidedPort] = dict(ports or {})

    def get(self, key: str) -> ProvidedPort | None:
        return self._ports.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._ports

    def __iter__(self) -> Iterator[ProvidedPort]:
        return iter(self._ports[k] for k in sorted(self._ports))

    def keys_of(self, provider: str) -> list[str]:
        """The keys ``provider`` registered (for ``idmaj plugins --verbose``)."""
        return sorted(k for k, p in self._ports.items() if p.provider == provider)


def protocol_members(protocol: type) -> list[str]:
    """The public attributes a ``Protocol`` class asks for (methods and annotated data)."""
    names: set[str] = set()
    for base in protocol.__mro__:
        if base in (object, Protocol) or not getattr(base, "_is_protocol", False):
            continue
        names.update(vars(base))
        names.update(getattr(base, "__annotations__", {}))
    return sorted(n for n in names if not n.startswith("_"))


def _signature_problem(protocol: type, implementation: Any, name: str) -> str | None:
    """Why ``implementation.name`` cannot be called as ``protocol.name`` is, or ``None``."""
    expected = inspect.getattr_static(protocol, name, None)
    if not callable(expected):
        return None
    actual = getattr(implementation, name)
    if not callable(actual):
        return f"{name} is not callable"
    try:
        wanted = [p for p in inspect.signature(expected).parameters.values()][1:]  # no self
        given = inspect.signature(actual).parameters
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return None
    takes_any_keyword = any(p.kind is p.VAR_KEYWORD for p in given.values())
    missing = [p.name for p in wanted if p.name not in given and not takes_any_keyword]
    extra = [
        p.name
        for p in given.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in {w.name for w in wanted}
    ]
    if missing or extra:
        return (
            f"{name}{inspect.signature(actual)} does not match {name}{inspect.signature(expected)}"
        )
    return None


def check_port(provider: str, port: Any) -> ProvidedPort:
    """Validate one registration of ``provider``.

    :raises PluginError: not a :class:`ServicePort`, a malformed key, a protocol that is not a
        runtime-checkable ``Protocol``, or an implementation that does not satisfy it (missing
        members, or methods whose parameters differ); the message names the plugin.
    """
    if not isinstance(port, ServicePort):
        raise PluginError(
            f"plugin {provider!r}: plugin_services must return core.contributions.ServicePort "
            f"values, not {port!r}"
        )
    if not KEY_RE.match(port.key):
        raise PluginError(
            f"plugin {provider!r}: service port key {port.key!r} must be dotted lower case, "
            "like 'funds.accounts'"
        )
    protocol = port.protocol
    if not (isinstance(protocol, type) and getattr(protocol, "_is_runtime_protocol", False)):
        raise PluginError(
            f"plugin {provider!r}: the protocol of service port {port.key!r} must be a "
            f"typing.Protocol marked @runtime_checkable, not {protocol!r}"
        )
    name = f"{protocol.__module__}.{protocol.__qualname__}"
    missing = [m for m in protocol_members(protocol) if not hasattr(port.implementation, m)]
    if missing or not isinstance(port.implementation, protocol):
        raise PluginError(
            f"plugin {provider!r}: service port {port.key!r}: {port.implementation!r} does not "
            f"satisfy {name} (missing: {', '.join(missing) or '?'})"
        )
    for member in protocol_members(protocol):
        problem = _signature_problem(protocol, port.implementation, member)
        if problem:
            raise PluginError(
                f"plugin {provider!r}: service port {port.key!r} does not satisfy {name}: {problem}"
            )
    return ProvidedPort(port.key, protocol, port.implementation, provider)


def build_port_registry(pm: IdmajPluginManager) -> PortRegistry:
    """Collect and check every ``plugin_services`` registration of the app's plugins.

    :raises PluginError: a bad registration (see :func:`check_port`), or two plugins providing
        one key (the message names both).
    """
    found: dict[str, ProvidedPort] = {}
    for provider, item in pm.collect_by_plugin("plugin_services"):
        provided = check_port(provider, item)
        other = found.get(provided.key)
        if other is not None:
            raise PluginError(
                f"plugins {other.provider!r} and {provider!r} both provide the service port "
                f"{provided.key!r}: disable one of them"
            )
        found[provided.key] = provided
    return PortRegistry(found)


def init_app(app: Flask, pm: IdmajPluginManager) -> PortRegistry:
    registry = build_port_registry(pm)
    app.extensions[EXTENSION] = registry
    return registry


def port_registry(app: Flask | None = None) -> PortRegistry:
    return (app or current_app).extensions[EXTENSION]


def has_port(key: str, protocol: type | None = None, *, app: Flask | None = None) -> bool:
    """Whether a module of this app provides ``key`` (and, if given, satisfies ``protocol``):
    show the feature that needs it only then."""
    provided = port_registry(app).get(key)
    if provided is None:
        return False
    return protocol is None or isinstance(provided.implementation, protocol)


def port(key: str, protocol: type[T], *, app: Flask | None = None) -> T:
    """The object registered under ``key``, typed as ``protocol``.

    :raises PortUnavailable: no installed module provides ``key``, or its object does not
        satisfy ``protocol`` (the message names the key).
    """
    provided = port_registry(app).get(key)
    if provided is None:
        raise PortUnavailable(key)
    if not isinstance(provided.implementation, protocol):
        raise PortUnavailable(
            key,
            f"the service port {key!r} of plugin {provided.provider!r} does not satisfy "
            f"{protocol.__module__}.{protocol.__qualname__}",
        )
    return provided.implementation  # type: ignore[no-any-return]


__all__ = [
    "PortRegistry",
    "PortUnavailable",
    "ProvidedPort",
    "ServicePort",
    "build_port_registry",
    "check_port",
    "has_port",
    "port",
    "port_registry",
]
