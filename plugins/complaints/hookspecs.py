"""The hooks the complaints module publishes (``plugin_hookspecs``). Other modules implement
them with ``@hookimpl(optionalhook=True)``: while complaints is absent they are never called."""

from __future__ import annotations

from typing import Any

from core.contributions import ComplaintCategory
from core.plugins import hookspec


@hookspec
def complaints_categories() -> list[ComplaintCategory]:
    """Called whenever the complaints module needs its categories: the filing form and
    ``GET /api/v1/complaints/categories``, routing a new or re-routed complaint, showing a
    stored category code. Takes no argument.

    :returns: :class:`core.contributions.ComplaintCategory` values — ``code`` (the module's
        name, a dot and a word: ``visits.visit``; core-wide categories have no dot), a lazy
        localised ``label``, the ``module`` answering for it, the ``office`` (a role) whose
        officers handle it at the detainee's establishment, and ``order``. A code given twice
        keeps the first by order. Complaints filed under a category whose module was since
        removed keep their code and are handled by the complaints office.
    """


@hookspec
def complaints_author_detainees(user: Any) -> list[Any]:
    """Called when a family member (a ``visitor`` account) files or lists complaints: which
    detainees may this person complain about? The visits module answers with the detainees
    the visitor is linked to (approved relations).

    :param user: the signed-in family member.
    :returns: :class:`core.detainees.models.Detainee` objects (duplicates are ignored). With
        no implementation a family member may complain about nobody; staff still file on a
        detainee's behalf.
    """
