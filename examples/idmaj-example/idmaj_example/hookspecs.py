"""The hooks this plugin publishes for others to implement (``plugin_hookspecs``).

Their names start with ``example_``. Implement them with ``@hookimpl(optionalhook=True)``: the
implementation is then ignored while this plugin is not installed (or disabled).
"""

from __future__ import annotations

from core.plugins import hookspec


@hookspec
def example_item_notes(name: str, category: str) -> list[str]:
    """Called when the catalogue is shown (page and API), once per item.

    :param name: the item's name, as shown.
    :param category: its category code (``food``, ``hygiene``, ``stationery``).
    :returns: short localised notes shown under the item (a dietary warning from the health
        module, a stock level from a warehouse module…), or nothing.
    """
