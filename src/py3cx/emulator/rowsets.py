"""Query options applied to rows that do not live in a table: function results and navigation
collections (``Queues(3)/Agents``).

The rows are loaded into a scratch in-memory SQLite table and queried with the very same
code as the entity tables, so ``$filter`` means exactly the same thing everywhere.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from .query import QueryOptions, build_select, check_select
from .spec import Prop
from .store import EntityTable, column_for, storage_value

_POSITION = "__pos"


def _guess_prop(name: str, values: Sequence[Any]) -> Prop:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        kind = "bool"
    elif isinstance(sample, int):
        kind = "int"
    elif isinstance(sample, float):
        kind = "float"
    elif isinstance(sample, datetime):
        kind = "datetime"
    elif isinstance(sample, timedelta):
        kind = "duration"
    elif isinstance(sample, date):
        kind = "date"
    elif isinstance(sample, (dict, list)):
        kind = "json"
    else:
        kind = "str"
    return Prop(name, kind, True, False, isinstance(sample, list), None)


class RowsetEngine:
    """A private in-memory SQLite database for scratch tables. Thread-safe (one query at a time).

    Example: ``RowsetEngine().query(rows, props, "Pbx.QueueAgent", opts)``.
    """

    def __init__(self) -> None:
        self._engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        self._lock = threading.Lock()
        self._names = itertools.count(1)

    def query(
        self,
        rows: Sequence[Mapping[str, Any]],
        props: Mapping[str, Prop] | None,
        type_name: str,
        opts: QueryOptions,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Apply ``$filter/$search/$orderby/$skip/$top/$select`` (and ``$count``) to ``rows``.

        ``props`` come from the spec type; without them the columns are the union of the rows' keys.
        Returns the wire rows (nulls left out) and the count (None unless ``$count=true``).
        Raises XapiError(400) for invalid options.
        """
        if props:
            known = dict(props)
            for row in rows:  # keep properties the spec does not list rather than dropping them
                for key in row:
                    if key not in known:
                        known[key] = _guess_prop(key, [r.get(key) for r in rows])
        else:
            names: dict[str, None] = {}
            for row in rows:
                names.update(dict.fromkeys(row))
            known = {n: _guess_prop(n, [r.get(n) for r in rows]) for n in names}
        known = {n: Prop(n, p.kind, p.nullable, False, p.collection, p.ref) for n, p in known.items()}
        with self._lock:
            metadata = sa.MetaData()
            table = sa.Table(
                f"rowset_{next(self._names)}",
                metadata,
                sa.Column(_POSITION, sa.Integer, primary_key=True),
                *[column_for(p) for p in known.values()],
            )
            entity = EntityTable(table.name, type_name, known, table, [_POSITION])
            select = check_select(entity, opts.select) if opts.select else list(known)
            rows_sql, count_sql = build_select(entity, opts)
            values = [
                {_POSITION: i, **{n: storage_value(p, row.get(n)) for n, p in known.items()}}
                for i, row in enumerate(rows)
            ]
            with self._engine.begin() as conn:
                table.create(conn)
                try:
                    if values:
                        conn.execute(table.insert(), values)
                    result = [entity.to_wire(r, select) for r in conn.execute(rows_sql).mappings()]
                    count = conn.execute(count_sql).scalar_one() if opts.count else None
                finally:
                    table.drop(conn)
        return result, count
