"""How the audit page shows events to people: the action in words, the object by its name, the
summary as "field: old → new", all in the reader's language.

The words come from the modules (the ``audit_labels`` hook: the core's own in
``core.builtin``), the names from the ``audit_object_names`` hook, asked once per object type
for a whole page. The stored events and the API keep the codes.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.audit.queries import EventRow
from core.contributions import AuditLabels
from core.plugins import collect

# Summary keys whose value is a list of items, not a change ``[before, after]``.
LIST_FIELDS = frozenset({"roles", "establishments", "added", "removed", "overridden"})
MAX_VALUE = 120  # a long value (a note, an error) is cut on the page; the API has it whole


@dataclass(frozen=True)
class Vocabulary:
    actions: dict[str, str]
    object_types: dict[str, str]
    fields: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def action(self, code: str) -> str:
        """The label of ``code``: its own, else its family's (the longest ``prefix.``)."""
        if code in self.actions:
            return self.actions[code]
        families = [k for k in self.actions if k.endswith(".") and code.startswith(k)]
        if families:
            return self.actions[max(families, key=len)]
        return code


@dataclass(frozen=True)
class ShownEvent:
    """One row of the audit page."""

    id: int
    occurred_at: Any
    actor_username: str
    action: str  # the code, kept for the title attribute and the API-minded
    action_label: str
    object_type_label: str
    object_name: str
    object_id: str
    establishment: str | None
    summary: list[tuple[str, str]]


def vocabulary() -> Vocabulary:
    """Every module's labels, turned into text in the current language."""
    actions: dict[str, str] = {}
    types: dict[str, str] = {}
    fields: dict[str, str] = {}
    values: dict[str, dict[str, str]] = defaultdict(dict)
    for labels in collect("audit_labels"):
        if not isinstance(labels, AuditLabels):
            continue
        actions.update({k: str(v) for k, v in labels.actions.items()})
        types.update({k: str(v) for k, v in labels.object_types.items()})
        fields.update({k: str(v) for k, v in labels.fields.items()})
        for key, codes in labels.values.items():
            values[key].update({str(c): str(v) for c, v in codes.items()})
    return Vocabulary(actions, types, fields, dict(values))


def _fold(text: str) -> str:
    """Lower case without accents or Arabic diacritics, for matching typed words to labels."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matching_actions(words: str, vocab: Vocabulary) -> list[str] | None:
    """The action codes (or ``prefix.`` families) whose label or code contains ``words``.

    ``None`` when ``words`` is blank (no filter). A value that is itself a code or a family
    (``detainee.admit``, ``detainee.``) keeps working, for links and habits.
    """
    wanted = _fold(words.strip())
    if not wanted:
        return None
    found = [
        code
        for code, label in vocab.actions.items()
        if wanted in _fold(label) or wanted == _fold(code)
    ]
    if words.strip() not in found and (
        words.strip().endswith(".") or ("." in words.strip() and " " not in words.strip())
    ):
        found.append(words.strip())
    return found


def _value(value: Any, codes: dict[str, str] | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v, codes) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items())
    text = str(value)
    if codes and text in codes:
        return codes[text]
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def readable_summary(summary: Any, vocab: Vocabulary) -> list[tuple[str, str]]:
    """``{"capacity": [800, 900], "name": "X"}`` → ``[("Capacity", "800 → 900"), ("Name",
    "X")]``: field names in words where a module named them, a change as "old → new"."""
    if not isinstance(summary, dict):
        return [("", _value(summary))] if summary else []
    lines = []
    for key, value in summary.items():
        label = vocab.fields.get(str(key), str(key))
        codes = vocab.values.get(str(key))
        if isinstance(value, list) and len(value) == 2 and str(key) not in LIST_FIELDS:
            lines.append((label, f"{_value(value[0], codes)} → {_value(value[1], codes)}"))
        else:
            lines.append((label, _value(value, codes)))
    return lines


def object_names(rows: list[EventRow]) -> dict[tuple[str, str], str]:
    """The names of the page's objects: one ``audit_object_names`` call per object type."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.event.object_id:
            by_type[row.event.object_type].add(row.event.object_id)
    names: dict[tuple[str, str], str] = {}
    for object_type, ids in by_type.items():
        for answer in collect(
            "audit_object_names", object_type=object_type, object_ids=sorted(ids)
        ):
            if isinstance(answer, dict):
                for object_id, name in answer.items():
                    if object_id in ids and name:
                        names[(object_type, object_id)] = str(name)
    return names


def show(rows: list[EventRow], vocab: Vocabulary | None = None) -> list[ShownEvent]:
    """The page's rows, in words."""
    vocab = vocab or vocabulary()
    names = object_names(rows)
    shown = []
    for row in rows:
        ev = row.event
        shown.append(
            ShownEvent(
                id=ev.id,
                occurred_at=ev.occurred_at,
                actor_username=ev.actor_username,
                action=ev.action,
                action_label=vocab.action(ev.action),
                object_type_label=vocab.object_types.get(ev.object_type, ev.object_type),
                object_name=names.get((ev.object_type, ev.object_id), ev.object_id),
                object_id=ev.object_id,
                establishment=row.establishment,
                summary=readable_summary(ev.summary, vocab),
            )
        )
    return shown


__all__ = [
    "ShownEvent",
    "Vocabulary",
    "matching_actions",
    "object_names",
    "readable_summary",
    "show",
    "vocabulary",
]
