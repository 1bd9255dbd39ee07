"""The plugin manager: discovery through entry points, validation, and ``collect()`` helpers.

One :class:`pluggy.PluginManager` per app, kept in ``app.extensions["idmaj.plugins"]``. Plugins
are found through the ``idmaj.plugins`` entry-point group; the built-in modules are declared
there too (``pyproject.toml``), so the core never imports a module by name.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy
from flask import Flask, current_app

from core import hookspecs

ENTRY_POINT_GROUP = "idmaj.plugins"
hookimpl = pluggy.HookimplMarker("idmaj")


class PluginError(RuntimeError):
    """A plugin could not be loaded: the message names it."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    distribution: str


class IdmajPluginManager(pluggy.PluginManager):
    def __init__(self) -> None:
        super().__init__("idmaj")
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}

    def register_plugin(
        self, plugin: Any, name: str, *, version: str = "", distribution: str = ""
    ) -> None:
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
        )

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
    :raises PluginError: a plugin failed to import, or implements a hook that does not exist
        (a typo); the message names the plugin.
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
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    if trace if trace is not None else os.environ.get("IDMAJ_TRACE_HOOKS") == "1":
        enable_hook_tracing(pm)
    return pm


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
    "ENTRY_POINT_GROUP",
    "IdmajPluginManager",
    "PluginError",
    "PluginInfo",
    "build_plugin_manager",
    "collect",
    "enable_hook_tracing",
    "get_plugin_manager",
    "hook",
    "hookimpl",
]
