"""The ``/xapi/v1`` endpoint: resolves an OData path against the spec index and serves it.

Path kinds (BEHAVIOUR.md §2): entity-set collections (``/Users``), keys (``/Users(42)``),
alternate keys (``/Users(Number='100')``), navigation (``/Queues(3)/Agents``), singletons
(``/Defs``), bound functions and actions (``/Defs/Pbx.GetSystemParameters()``,
``/Users/Pbx.BatchDelete``) and imports at the root (``/GetUpdates()``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .auth import Identity, authorize
from .config import EmulatorConfig
from .default_operations import answer_from_spec
from .directory import refresh_view
from .errors import XapiError, json_response
from .expand import expand_property
from .licence import refuse as refuse_unlicensed
from .literals import LiteralError, PathSyntaxError, Segment, parse_literal, split_path
from .query import ExpandItem, QueryOptions, build_select, check_expand, check_select, parse_query_options
from .registry import FunctionContext, lookup
from .spec import EntitySet, Operation, spec_path
from .state import EmulatorState
from .store import EntityTable, datetime_to_storage, without_nulls
from .writes import create_entity, delete_entity, update_entity

PREFIX = "/xapi/v1"
_KEY_SAFE = "'=,"  # characters of a key literal that stay readable in a Location URL


def _context(request: Request, fragment: str) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{PREFIX}/$metadata#{fragment}"


def etag_of(row: dict[str, Any]) -> str:
    """A weak ETag over an entity's stored values (used by ``If-Match`` on DELETE)."""
    digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode(), usedforsecurity=False)
    return f'W/"{digest.hexdigest()[:16]}"'


class XapiEndpoint:
    """Serves one request under ``/xapi/v1``. Example: ``await XapiEndpoint(state).handle(request)``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.spec = state.spec

    async def handle(self, request: Request) -> Response:
        path = request.scope["path"][len(PREFIX) :]
        state = self.state
        if path == "/swagger.yaml":
            # anonymous on a PBX: the official tutorial generates its client from it with no token
            return Response(spec_path(state.config.spec_version).read_bytes(), media_type="application/yaml")
        identity = state.authenticate(request)
        if path in ("", "/"):
            return self._service_document(request)
        try:
            segments = split_path(path)
        except PathSyntaxError:
            raise errors.no_route(request.scope["path"]) from None
        refuse_unlicensed(state.config, identity.kind, segments[0].name)
        authorize(identity, segments[0].name)
        opts = parse_query_options(request.scope.get("query_string", b""))
        first = segments[0]
        _apply_quirks(state.config, first.name, opts)
        if first.name in state.tables:
            return await self._entity_set(request, identity, segments, opts)
        if first.name in self.spec.singletons:
            return await self._singleton(request, identity, segments, opts)
        if len(segments) == 1:
            op = self.spec.operation("", first.name)
            if op is not None:
                return await self._operation(request, identity, op, first, None, opts)
        elif len(segments) == 2 and first.args is None:
            # sets reached only through their functions (ReportCallLogData, ActivityLog...)
            op = self.spec.operation(first.name, segments[1].name)
            if op is not None:
                return await self._operation(request, identity, op, segments[1], None, opts)
        raise errors.no_route(request.scope["path"])

    # -- entity sets ----------------------------------------------------------------------------
    async def _entity_set(
        self, request: Request, identity: Identity, segments: list[Segment], opts: QueryOptions
    ) -> Response:
        first = segments[0]
        refresh_view(self.state, first.name)
        entity = self.state.tables[first.name]
        es = self.spec.entity_sets[first.name]
        method = request.method
        if first.args is None:
            if len(segments) == 1:
                if method == "GET" and "list" in es.operations:
                    return self._list(request, entity, opts)
                if method == "POST" and "create" in es.operations:
                    return await self._create(request, entity)
                raise _method_not_allowed(method, first.name)
            if len(segments) == 2:
                op = self.spec.operation(first.name, segments[1].name)
                if op is not None:
                    return await self._operation(request, identity, op, segments[1], None, opts)
            raise errors.no_route(request.scope["path"])
        key, alternate = self._resolve_key(es, entity, first)
        if len(segments) == 1:
            # Users(42) and Users(Number='100') are separate paths in the spec, each with its methods
            allowed = es.alt_operations if alternate else es.operations & {"get", "update", "delete"}
            if method == "GET" and "get" in allowed:
                return self._get_entity(request, entity, first, key, opts)
            if method == "PATCH" and "update" in allowed:
                update_entity(self.state, entity, key, await _json_body(request))
                return Response(status_code=204)
            if method == "DELETE" and "delete" in allowed:
                delete_entity(self.state, entity, key, request.headers.get("if-match"), etag_of)
                return Response(status_code=204)
            if allowed:
                raise _method_not_allowed(method, first.name)
            raise errors.no_route(request.scope["path"])  # the spec has no such key path for this set
        if len(segments) == 2:
            binding = f"{first.name}({{{es.key[0].name}}})" if es.key else first.name
            op = self.spec.operation(binding, segments[1].name)
            if op is not None:
                return await self._operation(request, identity, op, segments[1], key, opts)
            nav = segments[1].name
            if (
                f"{binding}/{nav}" in self.spec.navigation_paths
                and segments[1].args is None
                and method == "GET"
            ):
                return self._navigation(
                    request, entity, key, nav, f"{first.name}({_key_text(key)})/{nav}", opts
                )
        raise errors.no_route(request.scope["path"])

    def _resolve_key(self, es: EntitySet, entity: EntityTable, seg: Segment) -> tuple[dict[str, Any], bool]:
        """The key values of ``Users(42)`` / ``Users(Number='100')`` and whether the key is an alternate one."""
        args = seg.args or []
        alternate = False
        if seg.positional and len(es.key) == 1:
            params = {es.key[0].name: es.key[0]}
            named = {es.key[0].name: args[0][1]}
        else:
            named = {n: v for n, v in args if n is not None}
            if len(named) != len(args):
                raise errors.no_route(seg.name)
            candidates = [es.key, *es.alternate_keys]
            match = next((k for k in candidates if {p.name for p in k} == set(named)), None)
            if match is None:
                raise errors.no_route(seg.name)
            alternate = match is not es.key
            params = {p.name: p for p in match}
        key: dict[str, Any] = {}
        for name, text in named.items():
            try:
                key[name] = parse_literal(text, params[name].kind, nullable=False)
            except LiteralError:
                raise errors.no_route(f"{seg.name}({text})") from None
        return key, alternate

    def _fetch(self, entity: EntityTable, key: dict[str, Any]) -> dict[str, Any]:
        table = entity.table
        where = sa.and_(*[table.c[k] == v for k, v in key.items()])
        with self.state.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(where)).mappings().first()
        if row is None:
            raise errors.not_found(next(iter(key)))
        return dict(row)

    def _list(self, request: Request, entity: EntityTable, opts: QueryOptions) -> Response:
        if entity.name == "ActiveCalls":
            # ServerNow is the PBX's clock at the time of the request
            with self.state.engine.begin() as conn:
                conn.execute(entity.table.update().values(ServerNow=datetime_to_storage(self.state.now())))
        select = check_select(entity, opts.select) if opts.select else [p.name for p in entity.scalar_props]
        expand = check_expand(entity, opts.expand)
        rows_sql, count_sql = build_select(entity, opts)
        with self.state.engine.connect() as conn:
            rows = conn.execute(rows_sql).mappings().all()
            count = conn.execute(count_sql).scalar_one() if opts.count else None
        fragment = entity.name + (f"({','.join(select)})" if opts.select else "")
        body: dict[str, Any] = {"@odata.context": _context(request, fragment)}
        if count is not None:
            body["@odata.count"] = count
        body["value"] = [self._serialise(entity, row, select, expand) for row in rows]
        return json_response(body)

    def _serialise(
        self, entity: EntityTable, row: Any, select: list[str], expand: list[ExpandItem]
    ) -> dict[str, Any]:
        out = entity.to_wire(row, select)
        for item in expand:
            raw = row[item.name]
            value = without_nulls(json.loads(raw)) if raw else []
            ref = entity.props[item.name].ref
            out.update(expand_property(item, value, ref, self.spec, self.state.rowsets))
        return out

    def _get_entity(
        self, request: Request, entity: EntityTable, seg: Segment, key: dict[str, Any], opts: QueryOptions
    ) -> Response:
        row = self._fetch(entity, key)
        select = check_select(entity, opts.select) if opts.select else [p.name for p in entity.scalar_props]
        expand = check_expand(entity, opts.expand)
        body: dict[str, Any] = {"@odata.context": _context(request, f"{entity.name}/$entity")}
        body.update(self._serialise(entity, row, select, expand))
        return json_response(body, headers={"ETag": etag_of(row)})

    def _navigation(
        self,
        request: Request,
        entity: EntityTable,
        key: dict[str, Any],
        nav: str,
        fragment: str,
        opts: QueryOptions,
    ) -> Response:
        row = self._fetch(entity, key)
        raw = row.get(nav)
        items: Any = without_nulls(json.loads(raw)) if raw else []
        prop = entity.props[nav]
        if not prop.collection and not items:
            raise errors.not_found(nav)
        # the path's own options apply as they would nested in $expand (navigation properties of
        # the items are left out unless expanded)
        shaped = expand_property(ExpandItem(nav, opts), items, prop.ref, self.spec, self.state.rowsets)
        if not prop.collection:
            return json_response({"@odata.context": _context(request, f"{fragment}/$entity"), **shaped[nav]})
        body: dict[str, Any] = {"@odata.context": _context(request, fragment)}
        if opts.count:
            body["@odata.count"] = shaped[f"{nav}@odata.count"]
        body["value"] = shaped[nav]
        return json_response(body)

    def _collection(
        self,
        request: Request,
        items: list[dict[str, Any]],
        type_name: str | None,
        fragment: str,
        opts: QueryOptions,
    ) -> Response:
        props = self.spec.properties(type_name) if type_name else None
        rows, count = self.state.rowsets.query(items, props, type_name or "", opts)
        body: dict[str, Any] = {"@odata.context": _context(request, fragment)}
        if count is not None:
            body["@odata.count"] = count
        body["value"] = rows
        return json_response(body)

    async def _create(self, request: Request, entity: EntityTable) -> Response:
        row = create_entity(self.state, entity, await _json_body(request))
        select = [p.name for p in entity.scalar_props]
        body: dict[str, Any] = {"@odata.context": _context(request, f"{entity.name}/$entity")}
        body.update(entity.to_wire(row, select))
        key_text = _key_text({k: row[k] for k in entity.key})
        # a header is ASCII: a key such as 'Müller' is percent-encoded, as in any URL
        location = f"{request.url.scheme}://{request.url.netloc}{PREFIX}/{entity.name}({quote(key_text, safe=_KEY_SAFE)})"
        return json_response(body, 201, headers={"Location": location, "ETag": etag_of(row)})

    # -- singletons -----------------------------------------------------------------------------
    async def _singleton(
        self, request: Request, identity: Identity, segments: list[Segment], opts: QueryOptions
    ) -> Response:
        first = segments[0]
        single = self.spec.singletons[first.name]
        if first.args is not None:
            raise errors.no_route(request.scope["path"])
        if len(segments) == 2:
            op = self.spec.operation(first.name, segments[1].name)
            if op is not None:
                return await self._operation(request, identity, op, segments[1], None, opts)
            nav = segments[1].name
            if f"{first.name}/{nav}" in self.spec.navigation_paths and request.method == "GET":
                items = self._singleton_body(first.name).get(nav, [])
                prop = self.spec.properties(single.entity_type).get(nav)
                return self._collection(
                    request, items, prop.ref if prop else None, f"{first.name}/{nav}", opts
                )
            raise errors.no_route(request.scope["path"])
        if len(segments) > 2:
            raise errors.no_route(request.scope["path"])
        props = self.spec.properties(single.entity_type)
        if request.method == "GET":
            body = self._singleton_body(first.name)
            if first.name == "SystemStatus":
                body = {**body, **self.state.live_status()}  # calls and trunks move, as on a PBX
            if opts.select:
                unknown = [n for n in opts.select if n != "*" and n not in props]
                if unknown:
                    raise errors.bad_request(
                        f"Could not find a property named '{unknown[0]}' on type '{single.entity_type}'."
                    )
                if "*" not in opts.select:
                    body = {k: v for k, v in body.items() if k in opts.select}
            navs = {n for n, p in props.items() if p.navigation}
            expand = {item.name for item in opts.expand}
            body = {k: v for k, v in body.items() if k not in navs or k in expand}
            return json_response({"@odata.context": _context(request, first.name), **body})
        if request.method == "PATCH" and "update" in single.operations:
            patch = await _json_body(request)
            unknown = [n for n in patch if n not in props and not n.startswith("@odata.")]
            if unknown:
                raise errors.bad_request(
                    f"The property '{unknown[0]}' does not exist on type '{single.entity_type}'."
                )
            with self.state.lock:
                current = self._singleton_body(first.name)
                current.update({k: v for k, v in patch.items() if not k.startswith("@odata.")})
                self.state.set_singleton(first.name, {k: v for k, v in current.items() if v is not None})
            return Response(status_code=204)
        raise _method_not_allowed(request.method, first.name)

    def _singleton_body(self, name: str) -> dict[str, Any]:
        """The stored singleton; one never seeded is made from its schema on first use, then kept."""
        with self.state.lock:
            body = self.state.singleton(name)
            if body is None:
                body = self.state.synthesizer.entity(self.spec.singletons[name].entity_type)
                self.state.set_singleton(name, body)
        return body

    # -- functions and actions ------------------------------------------------------------------
    async def _operation(
        self,
        request: Request,
        identity: Identity,
        op: Operation,
        seg: Segment,
        key: dict[str, Any] | None,
        opts: QueryOptions,
    ) -> Response:
        expected = "GET" if op.kind == "function" else "POST"
        if request.method != expected:
            raise _method_not_allowed(request.method, op.name)
        if op.kind == "function":
            args = _function_args(op, seg)
        else:
            if seg.args is not None:
                raise errors.no_route(request.scope["path"])
            body = await _json_body(request, allow_empty=True)
            args = body
        registration = lookup(op.binding, op.name)
        ctx = FunctionContext(
            state=self.state,
            args=args,
            request=request,
            identity=identity,
            key=next(iter(key.values())) if key else None,
            binding=op.binding,
            name=op.name,
            extra=opts.extra,
        )
        # operations no handler models answer what their spec response says (default_operations.py)
        result = registration.handler(ctx) if registration else answer_from_spec(ctx, op)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Response):
            return result
        if isinstance(result, (bytes, bytearray)):
            # Download... functions: typed as JSON in the spec, files on the wire
            return Response(bytes(result), media_type="application/octet-stream")
        if result is None:
            return Response(status_code=204)
        fragment = f"Collection({op.returns_type})" if op.returns_type else "Collection(Edm.Untyped)"
        if isinstance(result, list):
            if not all(isinstance(item, dict) for item in result):
                return self._primitive_collection(request, result, fragment, opts)
            return self._collection(request, result, op.returns_type, fragment, opts)
        body = {"@odata.context": _context(request, op.returns_type or "Edm.Untyped"), **result}
        return json_response(body)

    def _primitive_collection(
        self, request: Request, items: list[Any], fragment: str, opts: QueryOptions
    ) -> Response:
        """A collection of plain values (``Collection(Edm.String)``): only paging options apply."""
        if opts.filter or opts.select or opts.orderby:
            raise errors.bad_request("Only $top, $skip and $count apply to a collection of primitive values.")
        page = items[opts.skip :]
        if opts.top is not None:
            page = page[: opts.top]
        body: dict[str, Any] = {"@odata.context": _context(request, fragment)}
        if opts.count:
            body["@odata.count"] = len(items)
        body["value"] = page
        return json_response(body)

    def _service_document(self, request: Request) -> Response:
        value = [{"name": n, "kind": "EntitySet", "url": n} for n in sorted(self.state.tables)]
        value += [{"name": n, "kind": "Singleton", "url": n} for n in sorted(self.spec.singletons)]
        return json_response({"@odata.context": _context(request, "").rstrip("#"), "value": value})


# The order rows are written in, where it is not the key's: a segment is written when it ends.
_WRITTEN_ORDER: dict[str, list[tuple[str, bool]]] = {"CallHistoryView": [("SegmentEndTime", False)]}


def _apply_quirks(config: EmulatorConfig, set_name: str, opts: QueryOptions) -> None:
    """Make ``opts`` what a PBX with ``config``'s quirks acts on: ``$top`` capped at
    ``max_page_size``, and on the sets of ``ignore_orderby`` the order rows were written in."""
    cap = config.max_page_size
    if cap is not None:
        opts.top = cap if opts.top is None else min(opts.top, cap)
    if set_name in config.ignore_orderby:
        opts.orderby = list(_WRITTEN_ORDER.get(set_name, []))


def _function_args(op: Operation, seg: Segment) -> dict[str, Any]:
    given: dict[str, str] = {}
    for name, text in seg.args or []:
        if name is None:
            raise errors.no_route(seg.name)
        given[name] = text
    params = {p.name: p for p in op.params}
    missing = [p for p in params if p not in given]
    if missing:
        # a real PBX answers 404 when any argument is left out (BEHAVIOUR.md §3)
        raise XapiError(404, f"The {missing[0]} field is required.")
    unknown = [n for n in given if n not in params]
    if unknown:
        raise errors.no_route(f"{op.name}({unknown[0]}=...)")
    args: dict[str, Any] = {}
    for name, text in given.items():
        param = params[name]
        try:
            args[name] = parse_literal(text, param.kind, nullable=param.nullable)
        except LiteralError as exc:
            raise errors.server_error(f"The value of the parameter '{name}' is not valid: {exc}") from None
    return args


async def _json_body(request: Request, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return {}
        raise errors.bad_request("The request body is empty.")
    try:
        body = json.loads(raw)
        # "\ud800" escapes decode to lone surrogates, which no UTF-8 text (nor .NET) accepts
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise errors.bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object.")
    return body


def _key_text(key: dict[str, Any]) -> str:
    if len(key) == 1:
        value = next(iter(key.values()))
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
    return ",".join(f"{k}={_key_text({k: v})}" for k, v in key.items())


def _method_not_allowed(method: str, name: str) -> XapiError:
    return XapiError(405, f"The requested resource '{name}' does not support http method '{method}'.")
