"""Create, update and delete on entity sets, with the PBX's provisioning traps (BEHAVIOUR.md §5).

- A DN number (``Number`` on Users, Queues, RingGroups...) is unique across all DN sets:
  creating a second one fails with ``WARNINGS.XAPI.ALREADY_IN_USE`` on ``Number`` (400).
  DN ids come from one sequence.
- A PATCH that changes an alternate key or a DN's ``Number`` (a user's) is refused (400).
- A DN created without a ``Number`` gets the first free number of its set's range, the one
  ``GetFirstAvailable…Number()`` gives (3CX's xapi-tutorial creates users with ``{}``). Queue agents and ring group members name existing users
  (completed from them). A user's ``Groups`` and the departments' ``Members`` stay in step; a
  deleted DN leaves every department, queue and ring group (``directory.py``).
- A PATCH that carries a collection (``Agents`` of a queue) replaces the whole collection.
- DELETE honours ``If-Match`` (412 when the ETag no longer matches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import directory, errors
from .errors import XapiError
from .store import ROW_NUMBER, EntityTable

if TYPE_CHECKING:
    from .state import EmulatorState


def _numbered(state: EmulatorState, entity: EntityTable) -> bool:
    return any(t.name == entity.name for t in directory.numbered_tables(state))


def _check_unique(
    state: EmulatorState, conn: sa.Connection, entity: EntityTable, values: dict[str, Any]
) -> None:
    numbered = _numbered(state, entity) or ["Number"] in entity.alternate_keys
    if (
        numbered
        and values.get("Number") is not None
        and values["Number"] in directory.taken_numbers(state, conn)
    ):
        raise XapiError(400, key=errors.ALREADY_IN_USE, target="Number")
    for alt in entity.alternate_keys:
        if alt == ["Number"] or any(values.get(c) is None for c in alt):
            continue  # DN numbers were checked across sets above
        where = sa.and_(*[entity.table.c[c] == values[c] for c in alt if c in entity.table.c])
        if conn.execute(sa.select(sa.func.count()).select_from(entity.table).where(where)).scalar_one():
            raise XapiError(400, key=errors.ALREADY_IN_USE, target=alt[0])


def create_entity(state: EmulatorState, entity: EntityTable, body: dict[str, Any]) -> dict[str, Any]:
    """Insert one entity from a POST body and return its stored row (keys assigned).

    Raises XapiError(400) for unknown properties, wrong types or a number already in use.
    Example: ``create_entity(state, state.tables["Users"], {"Number": "150", "FirstName": "Ana"})``.
    """
    values = entity.from_wire(body, partial=False)
    table = entity.table
    int_key = len(entity.key) == 1 and (
        entity.key[0] == ROW_NUMBER or entity.props[entity.key[0]].kind == "int"
    )
    dn = entity.name in directory.PEER_TYPES and entity.key == ["Id"]
    if int_key:
        values.pop(entity.key[0], None)  # the PBX assigns ids
    elif any(values.get(k) is None for k in entity.key):
        raise XapiError(400, f"{entity.key[0]}:\nThe {entity.key[0]} field is required.")
    with state.lock, state.engine.begin() as conn:
        _check_unique(state, conn, entity, values)
        if not int_key:
            where = sa.and_(*[table.c[k] == values[k] for k in entity.key])
            if conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one():
                raise XapiError(400, key=errors.ALREADY_IN_USE, target=entity.key[0])
        if dn:
            if not values.get("Number") and "Number" in entity.props:
                # as on a PBX (and as 3CX's xapi-tutorial relies on): the first free number
                values["Number"] = directory.first_free_number(state, conn, entity.name)
            values["Id"] = directory.next_dn_id(state, conn)
        directory.prepare_user_lists(state, conn, entity.name, values)
        if entity.name == "Users":
            values["Groups"] = directory.prepare_user_groups(state, conn, {**values}, creating=True)
        result = conn.execute(table.insert().values(**values))
        if int_key:
            inserted = result.inserted_primary_key
            assert inserted is not None  # a single-row INSERT always has one
            key = {entity.key[0]: inserted[0]}
        else:
            key = {k: values[k] for k in entity.key}
        row = (
            conn.execute(sa.select(table).where(sa.and_(*[table.c[k] == v for k, v in key.items()])))
            .mappings()
            .one()
        )
        if entity.name == "Users":
            directory.sync_group_members(state, conn, dict(row))
    return dict(row)


def update_entity(
    state: EmulatorState, entity: EntityTable, key: dict[str, Any], body: dict[str, Any]
) -> None:
    """Apply a PATCH body to one entity. Raises XapiError(404/400).

    Example: ``update_entity(state, state.tables["Queues"], {"Id": 31}, {"Agents": [...]})``.
    """
    values = entity.from_wire(body, partial=True)
    table = entity.table
    where = sa.and_(*[table.c[k] == v for k, v in key.items()])
    with state.lock, state.engine.begin() as conn:
        row = conn.execute(sa.select(table).where(where)).mappings().first()
        if row is None:
            raise errors.not_found(next(iter(key)))
        for name in entity.key:
            if name in values and values[name] != row[name]:
                raise XapiError(400, key=errors.READ_ONLY, target=name)
            values.pop(name, None)
        frozen = [name for alt in entity.alternate_keys for name in alt]
        if _numbered(state, entity):
            frozen.append("Number")
        for name in frozen:
            if name in values and values[name] != row[name]:
                raise XapiError(400, key=errors.READ_ONLY, target=name)
        directory.prepare_user_lists(state, conn, entity.name, values)
        if entity.name == "Users" and "Groups" in values:
            values["Groups"] = directory.prepare_user_groups(state, conn, {**row, **values}, creating=False)
        if values:
            conn.execute(table.update().where(where).values(**values))
        if entity.name == "Users":
            directory.sync_group_members(state, conn, {**row, **values})


def delete_entity(
    state: EmulatorState,
    entity: EntityTable,
    key: dict[str, Any],
    if_match: str | None,
    etag_of: Callable[[dict[str, Any]], str],
) -> None:
    """Delete one entity, honouring ``If-Match``. Raises XapiError(404/412).

    Example: ``delete_entity(state, state.tables["Users"], {"Id": 5}, None, etag_of)``.
    """
    table = entity.table
    where = sa.and_(*[table.c[k] == v for k, v in key.items()])
    with state.lock, state.engine.begin() as conn:
        row = conn.execute(sa.select(table).where(where)).mappings().first()
        if row is None:
            raise errors.not_found(next(iter(key)))
        if (
            if_match
            and if_match.strip() != "*"
            and etag_of(dict(row)) not in {t.strip() for t in if_match.split(",")}
        ):
            raise XapiError(
                412, "The entity was changed since it was read (If-Match does not match its ETag)."
            )
        conn.execute(table.delete().where(where))
        if "Id" in key:
            directory.forget_dn(state, conn, entity.name, [key["Id"]])


def delete_many(state: EmulatorState, entity: EntityTable, ids: list[int]) -> list[int]:
    """Delete entities by integer key; returns the ids that did not exist."""
    table = entity.table
    column = table.c[entity.key[0]]
    with state.lock, state.engine.begin() as conn:
        existing = set(conn.execute(sa.select(column).where(column.in_(ids))).scalars())
        if existing:
            conn.execute(table.delete().where(column.in_(existing)))
            directory.forget_dn(state, conn, entity.name, existing)
    return [i for i in ids if i not in existing]
