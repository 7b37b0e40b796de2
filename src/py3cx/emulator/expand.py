"""``$expand`` with nested query options, as OData v4 allows and the PBX's OData stack answers.

``Users?$expand=Groups($expand=Rights,GroupRights;$select=Name,GroupId;$filter=…;$orderby=…;$top=1)``:
each expanded navigation property takes its own ``$filter``, ``$search``, ``$orderby``, ``$skip``,
``$top``, ``$count`` (answered as ``Groups@odata.count``), ``$select`` and ``$expand``, to any
depth where the schema has navigation properties. A name that is not a property of the expanded
type, or not a navigation property where one is expanded, is a 400 as at the top level.
Collections are filtered and ordered by the same engine as entity sets (``rowsets.py``).
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .query import ExpandItem, QueryOptions
from .rowsets import RowsetEngine
from .spec import Prop, SpecIndex

__all__ = ["expand_property"]

_ROW = "__expand_row"  # each row's position, carried through the engine


def _check(props: dict[str, Prop], type_name: str, options: QueryOptions) -> None:
    if not props:
        return  # a type the spec does not describe: nothing to check names against
    for name in options.select or []:
        if name != "*" and name not in props:
            raise bad_request(f"Could not find a property named '{name}' on type '{type_name}'.")
    for item in options.expand:
        prop = props.get(item.name)
        if prop is None or not prop.navigation:
            raise bad_request(
                f"Property '{item.name}' on type '{type_name}' is not a navigation property "
                "or complex property. Only navigation properties can be expanded."
            )


def _shape(
    value: dict[str, Any],
    props: dict[str, Prop],
    options: QueryOptions,
    spec: SpecIndex,
    rowsets: RowsetEngine,
) -> dict[str, Any]:
    expanded = {item.name: item for item in options.expand}
    out = {
        k: v
        for k, v in value.items()
        if k not in expanded
        and not (k in props and props[k].navigation)
        and (options.select is None or "*" in options.select or k in options.select)
    }
    for name, item in expanded.items():
        if name in value:
            out.update(expand_property(item, value[name], props[name].ref, spec, rowsets))
    return out


def expand_property(
    item: ExpandItem, value: Any, type_name: str | None, spec: SpecIndex, rowsets: RowsetEngine
) -> dict[str, Any]:
    """``{name: value}`` (and ``name@odata.count``) of one expanded navigation property.

    ``value`` is the property's stored JSON (a list or an object); ``type_name`` its item type.
    Raises XapiError(400) for a bad nested option. Example:
    ``expand_property(ExpandItem("Agents"), agents, "Pbx.QueueAgent", state.spec, state.rowsets)``.
    """
    props = spec.properties(type_name) if type_name else {}
    options = item.options
    _check(props, type_name or item.name, options)
    out: dict[str, Any] = {}
    if isinstance(value, list):
        rows = [v for v in value if isinstance(v, dict)]
        count = len(rows)
        if options.filter or options.search or options.orderby or options.skip or options.top is not None:
            # everything but $select and $expand, which _shape applies to each row
            query = QueryOptions(
                filter=options.filter,
                search=options.search,
                orderby=options.orderby,
                skip=options.skip,
                top=options.top,
                count=options.count,
            )
            scalar = {n: p for n, p in props.items() if not p.navigation} or None
            numbered = [{**r, _ROW: i} for i, r in enumerate(rows)]
            kept, counted = rowsets.query(numbered, scalar, type_name or item.name, query)
            # the engine answers which rows, in which order; the stored objects are what is shaped
            rows = [rows[k[_ROW]] for k in kept]
            count = counted if counted is not None else count
        out[item.name] = [_shape(r, props, options, spec, rowsets) for r in rows]
        if options.count:
            out[f"{item.name}@odata.count"] = count
    elif isinstance(value, dict):
        out[item.name] = _shape(value, props, options, spec, rowsets)
    else:
        out[item.name] = value
    return out
