"""The hooks the transfers module publishes (``plugin_hookspecs``). Implement them with
``@hookimpl(optionalhook=True)`` so your module starts whether or not transfers is installed."""

from __future__ import annotations

from typing import Any

from core.plugins import hookspec


@hookspec
def transfers_escort_health(detainee: Any) -> Any:
    """What the escort of a move may know about the detainee's health.

    Called when a transfer's escort record, its escort sheet (printable) or its page is shown,
    once per module, with the ``core.detainees.models.Detainee`` being moved. Not firstresult:
    every non-``None`` answer is shown.

    :param detainee: the detainee the transfer moves.
    :returns: a ``core.contributions.EscortHealth`` (fit to travel or not, and the needs for the
        journey in plain words), or ``None`` when the module has nothing to say. Only
        ``fit_to_travel`` and ``needs`` are shown to the escort — never a diagnosis.
    """
