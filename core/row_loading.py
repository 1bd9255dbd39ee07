"""Mapped instances made from rows read by Core, as the session would have loaded them.

Loading a detainee with its establishment and placements through the ORM cost a profile page
1.8 million instructions, 15 % of the page: the ORM builds its row processors for each
entity again on every execution (``loading.instances``), runs its execute events, compile
state and result wrapping, then the identity and unique machinery, around a statement that
costs a third of that when Core sends it. Here the same statement, its columns listed by
:class:`RowEntity`, is sent by Core (:func:`core.scoping.read_columns`, scoped as the query
layer scopes it) and each row's slice becomes an instance:

- an object of that identity already in the session is the one used (the ORM does the same:
  a row never overwrites what the session holds);
- otherwise a new instance gets every column as its loaded value (not a change: nothing is
  flushed) and is made persistent in the session as the ORM's own loading does it (its
  identity set, attached, put in the identity map: ``sqlalchemy.orm.loading._instance``,
  SQLAlchemy's private steps, held by ``tests/test_row_loading.py``), and the caller sets
  the relationships it read with :func:`set_committed_value`, as an eager load does. An
  attribute not set is loaded lazily on first use, as for any loaded object.

Only plain mappings (every column attribute maps one column of the class's table, no
inheritance) are accepted; ORM ``load`` events are not sent (none is used here).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_dict, instance_state, set_committed_value
from sqlalchemy.sql import FromClause

_T = TypeVar("_T")

__all__ = ["RowEntity", "attach_copy", "set_committed_value"]


class RowEntity:
    """The columns of one mapped class in a Core ``SELECT`` (of its table or an alias of
    it), and the instance each row's slice gives (see the module's text)."""

    def __init__(self, model: type[Any], selectable: FromClause | None = None) -> None:
        mapper = inspect(model)
        if mapper.inherits is not None or mapper.local_table is not mapper.persist_selectable:
            raise TypeError(f"{model.__name__}: only a class mapped to one table")
        table = selectable if selectable is not None else mapper.local_table
        self.model = model
        self._mapper = mapper
        self._manager = mapper.class_manager
        props = list(mapper.column_attrs)
        if any(len(prop.columns) != 1 for prop in props):
            raise TypeError(f"{model.__name__}: a column attribute over several columns")
        self.keys = tuple(prop.key for prop in props)
        self.columns = tuple(table.c[prop.columns[0].key] for prop in props)
        pk = [prop.columns[0] for prop in props if prop.columns[0].primary_key]
        names = [prop.columns[0].key for prop in props]
        self._pk_at = tuple(names.index(col.key) for col in pk)
        self.width = len(props)

    def instance(self, session: Session, row: Sequence[Any], start: int) -> tuple[Any, bool]:
        """The instance of ``row[start:start + width]`` and whether it is new: the session's
        own when it holds that identity (``False``: leave its relationships as they are),
        else a new persistent one with these committed values (``True``); ``(None, False)``
        when the slice has no primary key (an outer join that found nothing)."""
        values = row[start : start + self.width]
        pk = tuple(values[i] for i in self._pk_at)
        if None in pk:
            return None, False
        key = self._mapper.identity_key_from_primary_key(pk)
        found = session.identity_map.get(key)
        if found is not None:
            return found, False
        obj = self._manager.new_instance()
        # what the ORM's loading does with a row of an identity the session does not hold
        # (``sqlalchemy.orm.loading``): the columns written to the instance's dictionary (a
        # loaded value, not a change), the identity set, the state attached to the session and
        # put in its identity map. ``make_transient_to_detached`` + ``Session.add`` did the
        # same through the public API for twice the cost of the whole rest.
        instance_dict(obj).update(zip(self.keys, values, strict=True))
        state = instance_state(obj)
        state.key = key
        state.identity_token = key[2]
        state.session_id = session.hash_key
        session.identity_map._add_unpresent(state, key)
        return obj, True


@functools.cache
def _entity(model: type[Any]) -> RowEntity:
    return RowEntity(model)


def attach_copy(session: Session, obj: Any, collections: tuple[str, ...] = ()) -> Any:
    """A persistent copy in ``session`` of the detached, fully loaded instance ``obj`` and
    of its ``collections`` (each item copied the same way): what ``Session.merge(obj,
    load=False)`` gives for such an object, at a fraction of its cost (a signed-in user's
    snapshot is copied into every request's session). An identity the session already holds
    is used as it is. An instance with a column not loaded is merged by the session."""
    values = instance_dict(obj)
    entity = _entity(type(obj))
    if any(key not in values for key in entity.keys) or any(
        name not in values for name in collections
    ):
        return session.merge(obj, load=False)
    row = [values[key] for key in entity.keys]
    copy, new = entity.instance(session, row, 0)
    if new:
        for name in collections:
            items = [attach_copy(session, item) for item in values[name]]
            set_committed_value(copy, name, items)
    return copy
