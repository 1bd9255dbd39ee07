"""The plugin manager: discovery through entry points, validation, and ``collect()`` helpers.

One :class:`pluggy.PluginManager` per app, kept in ``app.extensions["idmaj.plugins"]``. Plugins
are found through the ``idmaj.plugins`` entry-point group; the built-in modules are declared
there too (``pyproject.toml``), so the core never imports a module by name.

Start-up validation, in order: each plugin's contract declaration (``IDMAJ_CONTRACT``, a version
specifier that must admit :data:`CONTRACT`); the hook specifications plugins publish
(``plugin_hookspecs``: named with the publisher's prefix, no clash); then every hook
implementation must match a specification, except ``optionalhook=True`` ones for plugins that
are not installed.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy
from flask import Flask, current_app
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from core import hookspecs

ENTRY_POINT_GROUP = "idmaj.plugins"
hookimpl = pluggy.HookimplMarker("idmaj")
hookspec = hookspecs.hookspec  # for the hooks a plugin publishes (``plugin_hookspecs``)

# The plugin contract this core offers. A plugin states the versions it supports in a module
# (or object) attribute ``IDMAJ_CONTRACT``, a PEP 440 specifier such as ">=2,<3"; one that does
# not admit this version is refused at start-up. A plugin declaring nothing is accepted with a
# warning (written before contracts were versioned).
CONTRACT_VERSION: tuple[int, int] = (2, 1)
CONTRACT = ".".join(str(part) for part in CONTRACT_VERSION)
CONTRACT_ATTRIBUTE = "IDMAJ_CONTRACT"

log = logging.getLogger("idmaj.plugins")


class PluginError(RuntimeError):
    """A plugin could not be loaded: the message names it."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    distribution: str
    contract: str = ""  # what its IDMAJ_CONTRACT declares ("" when it declares nothing)


def check_contract(name: str, plugin: Any) -> str:
    """The plugin's contract declaration, if it admits :data:`CONTRACT`.

    :returns: the declared specifier, or ``""`` when the plugin declares none (accepted, with a
        warning in the log).
    :raises PluginError: the declaration is not a version specifier, or excludes this core's
        contract; the message names the plugin, what it supports and what the core offers.
    """
    declared = getattr(plugin, CONTRACT_ATTRIBUTE, None)
    if declared is None:
        log.warning(
            "plugin %r declares no %s; accepted as written for contract %s",
            name,
            CONTRACT_ATTRIBUTE,
            CONTRACT,
        )
        return ""
    try:
        if not isinstance(declared, str) or not declared.strip():
            raise InvalidSpecifier(repr(declared))
        supported = SpecifierSet(declared)
    except InvalidSpecifier as exc:
        raise PluginError(
            f"plugin {name!r}: {CONTRACT_ATTRIBUTE} = {declared!r} is not a version "
            f"specifier such as '>=2,<3' (this core offers contract {CONTRACT})"
        ) from exc
    if not supported.contains(CONTRACT, prereleases=True):
        raise PluginError(
            f"plugin {name!r} supports plugin contract {declared!r}, but this core offers "
            f"contract {CONTRACT}: install a version of the plugin made for {CONTRACT}, "
            "or disable it"
        )
    return declared


class IdmajPluginManager(pluggy.PluginManager):
    def __init__(self) -> None:
        super().__init__("idmaj")
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.published: dict[str, str] = {}  # hook name → the plugin that publishes it
        # changes whenever a plugin is registered or unregistered: what is kept from hooks'
        # answers (:func:`core.portal.navigation.navigation`) is kept under it
        self.generation = 0

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        self.generation += 1
        return super().register(plugin, name=name)

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        self.generation += 1
        return super().unregister(plugin, name=name)

    def register_plugin(
        self, plugin: Any, name: str, *, version: str = "", distribution: str = ""
    ) -> None:
        contract = check_contract(name, plugin)
        try:
            self.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:  # a hook with arguments its spec lacks
            raise PluginError(f"plugin {name!r}: {exc}") from exc
        except ValueError as exc:  # the same name or object registered twice
            raise PluginError(f"plugin {name!r}: {exc}") from exc
        self.infos[name] = PluginInfo(
            name=name,
            version=version or getattr(plugin, "__version__", "") or "",
            distribution=distribution or "(registered directly)",
            contract=contract,
        )

    def publish_hookspecs(self, publisher: str, namespace: Any) -> list[str]:
        """Add the ``@hookspec`` functions of ``namespace`` (a module or class) as hooks that
        ``publisher`` owns. Their names must start with ``<publisher>_`` and be new.

        :raises PluginError: naming the publisher (and the owner of a clashing hook), or the
            plugin whose implementation of a published hook asks for unknown arguments.
        """
        names = sorted(
            n for n in dir(namespace) if self.parse_hookspec_opts(namespace, n) is not None
        )
        if not names:
            raise PluginError(
                f"plugin {publisher!r}: plugin_hookspecs returned {namespace!r}, which holds "
                "no function marked with core.plugins.hookspec"
            )
        prefix = f"{publisher}_"
        for name in names:
            if not name.startswith(prefix):
                raise PluginError(
                    f"plugin {publisher!r} publishes hook {name!r}: the hooks a plugin publishes "
                    f"must start with its name, {prefix!r}"
                )
            caller = getattr(self.hook, name, None)
            if caller is not None and caller.has_spec():
                owner = self.published.get(name, "core")
                raise PluginError(
                    f"plugin {publisher!r} publishes hook {name!r}, which {owner!r} already "
                    "specifies"
                )
        try:
            self.add_hookspecs(namespace)
        except pluggy.PluginValidationError as exc:  # an implementation with unknown arguments
            implementer = self.get_name(exc.plugin) or repr(exc.plugin)
            raise PluginError(f"plugin {implementer!r}: {exc}") from exc
        for name in names:
            self.published[name] = publisher
        return names

    def collect_by_plugin(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`collect`, but each item paired with the name of the plugin that returned
        it (for start-up checks whose errors must name the plugin); ordered by plugin name."""
        caller = getattr(self.hook, hook_name)
        pairs: list[tuple[str, Any]] = []
        for impl in sorted(caller.get_hookimpls(), key=lambda i: i.plugin_name):
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            if result is None:
                continue
            items = result if isinstance(result, list | tuple) else [result]
            pairs.extend((impl.plugin_name, item) for item in items if item is not None)
        return pairs

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a list-returning hook and flatten the results, ordered by ``order`` then name."""
        hook = getattr(self.hook, hook_name)
        results: list[Any] = []
        for result in hook(**kwargs):
            if result is None:
                continue
            if isinstance(result, list | tuple):
                results.extend(r for r in result if r is not None)
            else:
                results.append(result)
        return sorted(results, key=_order_key)

    def plugin_infos(self) -> list[PluginInfo]:
        return [self.infos[n] for n in sorted(self.infos)]


def _order_key(item: Any) -> tuple[int, str]:
    return (getattr(item, "order", 100), str(getattr(item, "key", getattr(item, "code", ""))))


def disabled_plugins(value: str | None) -> set[str]:
    return {p.strip() for p in (value or "").split(",") if p.strip()}


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in eps:
        seen.setdefault(ep.name, ep)  # the first on sys.path wins, as importlib finds them
    return [seen[name] for name in sorted(seen)]


def build_plugin_manager(
    plugins: Sequence[Any] | None = None,
    disabled: Iterable[str] = (),
    *,
    trace: bool | None = None,
) -> IdmajPluginManager:
    """Create the manager and register plugins.

    :param plugins: when given, exactly these plugin objects (or ``(name, object)`` pairs) are
        registered and entry points are not read: tests use it to build apps with different
        plugin sets side by side.
    :param disabled: names not to load (``IDMAJ_DISABLED_PLUGINS``).
    :param trace: print every hook call to standard error; ``None`` reads
        ``IDMAJ_TRACE_HOOKS=1`` from the environment.
    :raises PluginError: a plugin failed to import, supports another plugin contract,
        publishes a bad hook specification, or implements a hook that does not exist (a typo,
        also in a hook an installed plugin publishes); the message names the plugin.
    """
    pm = IdmajPluginManager()
    skip = set(disabled)
    if plugins is not None:
        for item in plugins:
            name, obj = item if isinstance(item, tuple) else (_plugin_name(item), item)
            if name in skip:
                continue
            pm.register_plugin(obj, name)
    else:
        for ep in _entry_points():
            if ep.name in skip:
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must stop start-up, named
                raise PluginError(
                    f"plugin {ep.name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
                ) from exc
            dist = ep.dist
            pm.register_plugin(
                obj,
                ep.name,
                version=dist.version if dist else "",
                distribution=dist.metadata["Name"] if dist else "",
            )
    _publish_plugin_hookspecs(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    _check_hooks_of_installed_plugins(pm)
    if trace if trace is not None else os.environ.get("IDMAJ_TRACE_HOOKS") == "1":
        enable_hook_tracing(pm)
    return pm


def _publish_plugin_hookspecs(pm: IdmajPluginManager) -> None:
    """Add the hook specifications each plugin publishes (``plugin_hookspecs``), before
    ``check_pending()`` so implementations of them are verified like the core's hooks."""
    for publisher, namespace in pm.collect_by_plugin("plugin_hookspecs"):
        pm.publish_hookspecs(publisher, namespace)


def _check_hooks_of_installed_plugins(pm: IdmajPluginManager) -> None:
    """``optionalhook=True`` lets an implementation wait for a plugin that is not installed; but
    an implementation named after an installed plugin (``<name>_…``) that matches none of the
    hooks it publishes is a typo, and stops start-up like an unknown core hook."""
    # the longest name first: an installed "funds_bank" owns "funds_bank_rates", not "funds"
    names = {*pm.infos, "core"}  # the core is registered last, but is always there
    prefixes = {f"{n}_": n for n in sorted(names, key=len, reverse=True)}
    for hook_name, caller in sorted(vars(pm.hook).items()):
        if hook_name.startswith("_") or caller.has_spec():
            continue
        owner = next((n for p, n in prefixes.items() if hook_name.startswith(p)), None)
        impls = caller.get_hookimpls()
        if owner is None or not impls:
            continue
        implementer = impls[0].plugin_name
        published = sorted(h for h, publisher in pm.published.items() if publisher == owner)
        raise PluginError(
            f"plugin {implementer!r} implements hook {hook_name!r}, but the installed plugin "
            f"{owner!r} publishes no such hook (it publishes: {', '.join(published) or 'none'})"
        )


def enable_hook_tracing(
    pm: pluggy.PluginManager, write: Callable[[str], Any] | None = None
) -> Callable[[], None]:
    """Print every hook call (arguments, implementations, outcome) to standard error.

    Switched on by ``IDMAJ_TRACE_HOOKS=1``; returns a function that switches it off again.
    """
    out = write or (lambda line: print(line, file=sys.stderr))

    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in reversed(impls)) or "-"
        args = ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items())
        out(f"[idmaj hook] {hook_name}({args}) -> {names}")

    def after(
        outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        if outcome.exception is not None:
            out(f"[idmaj hook] {hook_name} raised {type(outcome.exception).__name__}")
        else:
            out(f"[idmaj hook] {hook_name} returned {_short(outcome.get_result())}")

    return pm.add_hookcall_monitoring(before, after)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plugin_name(obj: Any) -> str:
    name = getattr(obj, "PLUGIN_NAME", None) or getattr(obj, "__name__", None)
    if not name:
        raise PluginError(f"cannot tell the name of plugin object {obj!r}")
    return str(name).rsplit(".", 1)[-1]


def get_plugin_manager(app: Flask | None = None) -> IdmajPluginManager:
    return (app or current_app).extensions["idmaj.plugins"]


def collect(hook_name: str, **kwargs: Any) -> list[Any]:
    """Shortcut for ``get_plugin_manager().collect(...)`` in the current app."""
    return get_plugin_manager().collect(hook_name, **kwargs)


def hook(app: Flask | None = None) -> Any:
    """The hook relay of the current app: ``hook().on_detainee_admitted(...)``."""
    return get_plugin_manager(app).hook


def env_disabled() -> set[str]:
    return disabled_plugins(os.environ.get("IDMAJ_DISABLED_PLUGINS"))


__all__ = [
    "CONTRACT",
    "CONTRACT_ATTRIBUTE",
    "CONTRACT_VERSION",
    "ENTRY_POINT_GROUP",
    "IdmajPluginManager",
    "PluginError",
    "PluginInfo",
    "build_plugin_manager",
    "check_contract",
    "collect",
    "enable_hook_tracing",
    "get_plugin_manager",
    "hook",
    "hookimpl",
    "hookspec",
]
