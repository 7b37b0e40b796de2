"""Writes ``_generated/resources/<resource>.py`` (a sync and an async class per tag) and
``_generated/facade.py`` (the lazily loaded resources of ``client.xapi``).

Each method builds its path with :mod:`py3cx.odata` (every key and argument through
``literal()``, typed with ``Typed(value, "Edm.…")``), calls one public method of the client and
reads the answer with the helpers of :mod:`py3cx.xapi._resource`. The sync and async classes are
the same text apart from ``await``.
"""

from __future__ import annotations

import keyword
import re

from xapi_codegen.naming import all_sort_key, isort_key
from xapi_codegen.operations import Operation, Param, Resource, Segment
from xapi_codegen.spec_drift import LegacyForm, SpecDrift
from xapi_codegen.text_blocks import docstring, file_header

_OPTION_ANNOTATIONS = {
    "filter": "FilterArg",
    "select": "FieldsArg",
    "expand": "FieldsArg",
    "orderby": "FieldsArg",
    "search": "str | None",
    "top": "int | None",
    "skip": "int | None",
    "count": "bool | None",
}
_SAMPLE_KEYS = {"int": "42", "str": '"100"', "str | UUID": '"6f0b…"'}
_LIST_RE = re.compile(r"\blist\[")
_MODEL_REFERENCE = re.compile(r"\bm\.([A-Za-z_][A-Za-z0-9_]*)")


def wrap_import(line: str, width: int = 110) -> str:
    """A long ``from x import a, b`` as a parenthesised list, one name per line."""
    if len(line) <= width:
        return line
    head, names = line.split(" import ", 1)
    return "\n".join([f"{head} import (", *[f"    {name}," for name in names.split(", ")], ")"])


def _input_annotation(annotation: str) -> str:
    """Arguments accept any sequence where the wire wants an array."""
    return _LIST_RE.sub("Sequence[", annotation)


def _output_annotation(annotation: str) -> str:
    # A resource may have a method called `list`, which would shadow the builtin in annotations.
    return _LIST_RE.sub("builtins.list[", annotation)


def _typed(param: Param, source: str | None = None) -> str:
    value = source or param.python
    if param.time_span:
        value = f"time_span({value})"
    return f'Typed({value}, "{param.edm_type}")'


def _kwargs(pairs: list[tuple[str, str]]) -> str:
    plain = [
        f"{name}={value}" for name, value in pairs if name.isidentifier() and not keyword.iskeyword(name)
    ]
    odd = [
        f'"{name}": {value}'
        for name, value in pairs
        if not (name.isidentifier() and not keyword.iskeyword(name))
    ]
    if odd:
        plain.append("**{" + ", ".join(odd) + "}")
    return ", ".join(plain)


def path_expression(
    segments: list[Segment], http_method: str, kind: str, sources: dict[str, str] | None = None
) -> str:
    """Python source that evaluates to the request path of an operation.

    ``sources`` maps wire argument names to the Python text that fills them (the legacy forms
    use it); by default each parameter's own variable is used.
    """
    expression: str | None = None  # None: nothing yet; otherwise Python source
    literal_text: list[str] = []

    def source(param: Param) -> str:
        if sources is not None:
            return _typed(param, sources[param.wire])
        return _typed(param)

    def flush() -> str | None:
        nonlocal expression
        if literal_text:
            text = "/".join(literal_text)
            literal_text.clear()
            expression = f'"{text}"' if expression is None else f'{expression} + "/{text}"'
        return expression

    last = len(segments) - 1
    for index, segment in enumerate(segments):
        is_action = index == last and kind == "action" and not segment.is_call
        if segment.is_call:
            bound = flush() or "None"
            args = _kwargs([(param.wire, source(param)) for param in segment.arguments or []])
            expression = f'function_path({bound}, "{segment.name}"' + (f", {args})" if args else ")")
        elif is_action:
            bound = flush() or "None"
            expression = f'action_path({bound}, "{segment.name}")'
        elif segment.key is not None or segment.named_keys:
            if flush() is not None:
                raise ValueError(f"a key after another segment is not supported: {segment.name}")
            if segment.key is not None:
                expression = f'key_path("{segment.name}", {source(segment.key)})'
            else:
                named = _kwargs([(param.wire, source(param)) for param in segment.named_keys])
                expression = f'key_path("{segment.name}", {named})'
        else:
            literal_text.append(segment.name)
    return flush() or '""'


def _split_arguments(text: str) -> list[str]:
    """Split call arguments at the commas outside brackets and strings."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current = ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def wrap_line(line: str, width: int = 110) -> str:
    """Break a long ``name = call(...)``/``return call(...)`` line into one argument per line.

    Example: ``wrap_line("        return f(" + "a, " * 60 + "b)")`` gives a multi-line call.
    """
    if len(line) <= width or not line.endswith(")"):
        return line
    indent = line[: len(line) - len(line.lstrip())]
    # The outermost call of the statement: the first "(" whose match is the final ")".
    depth = 0
    start = -1
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char == "(":
            if depth == 0:
                start = index
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and index != len(line) - 1:
                start = -1
    if start < 0:
        return line
    head = line[: start + 1]
    arguments = _split_arguments(line[start + 1 : -1])
    inner = indent + "    "
    wrapped = [head] + [wrap_line(f"{inner}{argument},", width).rstrip(",") + "," for argument in arguments]
    return "\n".join([*wrapped, f"{indent})"])


class MethodWriter:
    """Renders one operation as a sync or an async method."""

    def __init__(self, resource: Resource, operation: Operation, drift: SpecDrift, is_async: bool) -> None:
        self.resource = resource
        self.op = operation
        self.drift = drift
        self.is_async = is_async
        self.await_ = "await " if is_async else ""

    # -- signature ------------------------------------------------------------------------------

    def signature(self) -> list[str]:
        op = self.op
        params = ["self"]
        params += [f"{p.python}: {p.annotation}" for p in op.key_params]
        keyword_only: list[str] = []
        if op.entity_body is not None:
            params.append(f"body: {op.entity_body} | Mapping[str, Any]")
        # Required arguments first, then the ones with defaults (the order of the path otherwise).
        keyword_only += [f"{p.python}: {p.annotation}" for p in op.function_params if p.default is None]
        keyword_only += [
            f"{f.python}: {_input_annotation(f.annotation)}" for f in op.body_fields if not f.optional
        ]
        keyword_only += [f"{p.python}: {p.annotation} = {p.default}" for p in op.function_params if p.default]
        keyword_only += [
            f"{f.python}: {_input_annotation(f.annotation)} | None = None"
            for f in op.body_fields
            if f.optional
        ]
        if op.result.kind == "download":
            keyword_only.append("file: FileArg")
        for option in op.query_options:
            if option == "count" and op.result.kind == "pager":
                continue
            keyword_only.append(f"{option}: {_OPTION_ANNOTATIONS[option]} = None")
        if op.result.kind == "pager":
            keyword_only.append("page_size: int = 500")
        if op.etag:
            keyword_only.append("etag: str | None = None")
        if keyword_only:
            params.append("*")
            params += keyword_only
        returns = self.return_annotation()
        prefix = "async def" if self.is_async and op.result.kind != "pager" else "def"
        head = f"    {prefix} {op.method_name}("
        one_line = head + ", ".join(params) + f") -> {returns}:"
        if len(one_line) <= 110:
            return [one_line]
        return [head] + [f"        {param}," for param in params] + [f"    ) -> {returns}:"]

    def return_annotation(self) -> str:
        result = self.op.result
        annotation = _output_annotation(result.annotation)
        if result.kind == "pager":
            return f"{'AsyncPager' if self.is_async else 'Pager'}[{annotation}]"
        if result.kind == "list":
            return f"builtins.list[{annotation}]"
        if result.kind in ("model", "value"):
            return f"{annotation} | None" if result.nullable else annotation
        if result.kind == "download":
            return "int"
        return "None"

    # -- docstring ------------------------------------------------------------------------------

    def doc(self) -> str:
        op = self.op
        lines = [op.summary.rstrip(".") + "." if op.summary else op.operation_id + "."]
        if op.description:
            lines += ["", op.description]
        shown = re.sub(r"(\w+)=\{\1\}", r"\1", op.path)
        lines += ["", f"``{op.http_method} /xapi/v1{shown}``"]
        notes = []
        if op.result.kind == "pager":
            notes.append(
                "Returns a lazy pager: nothing is sent until it is iterated (``.raw()`` gives dicts)."
            )
        if op.result.kind == "download":
            notes.append(
                "Streams the answer into ``file`` (a path or a binary file); returns the byte count."
            )
        if op.kind == "update":
            notes.append("Sends only the fields that were set on ``body``.")
        if op.operation_id in self.drift.changed:
            old = self.drift.changed[op.operation_id].operation
            notes.append(f"On a 20.0.4 PBX this sends ``{old.http_method} {old.path}`` instead.")
        elif op.operation_id in self.drift.added:
            notes.append("Not on 20.0.4 PBXs: raises UnsupportedByPbxError there.")
        if op.operation_id in self.drift.body_fields:
            notes.append(
                "On a 20.0.4 PBX only "
                + ", ".join(self.drift.body_fields[op.operation_id] or ["no"])
                + " may be given."
            )
        if notes:
            lines += ["", *notes]
        raises = "APIStatusError (NotFoundError, PermissionDeniedError...), APIConnectionError"
        if self.drift.guarded(op.operation_id):
            raises += ", UnsupportedByPbxError"
        lines += ["", f"Raises: {raises}.", "", f"Example: ``{self.example()}``"]
        return docstring("\n".join(lines).replace("\n\n\n", "\n\n"), 8)

    def example(self) -> str:
        op = self.op
        args = [_SAMPLE_KEYS.get(p.annotation, "...") for p in op.key_params]
        if op.entity_body is not None:
            args.append(f"{op.entity_body.removeprefix('m.')}(...)")
        args += [f"{p.python}=..." for p in op.function_params if p.default is None]
        args += [f"{f.python}=..." for f in op.body_fields if not f.optional]
        if op.result.kind == "download":
            args.append('file="out.bin"')
        call = f"client.xapi.{self.resource.attribute}.{op.method_name}({', '.join(args)})"
        if op.result.kind == "pager":
            return ("async for row in " if self.is_async else "for row in ") + call + ": ..."
        return ("await " if self.is_async else "") + call

    # -- body -----------------------------------------------------------------------------------

    def guard_call(self, method: str) -> str:
        return f'{self.await_}self._guard.{method}("{self.op.operation_id}")'

    def path_lines(self, indent: str) -> list[str]:
        op = self.op
        current = path_expression(op.segments, op.http_method, op.kind)
        legacy: LegacyForm | None = self.drift.changed.get(op.operation_id)
        if legacy is not None:
            old = path_expression(
                legacy.operation.segments,
                legacy.operation.http_method,
                legacy.operation.kind,
                legacy.arguments,
            )
            return [
                f"{indent}if {self.guard_call('legacy')}:",
                f"{indent}    path = {old}",
                f"{indent}else:",
                f"{indent}    path = {current}",
            ]
        lines = []
        if op.operation_id in self.drift.added:
            lines.append(f"{indent}{self.guard_call('require')}")
        lines.append(f"{indent}path = {current}")
        return lines

    def body(self) -> list[str]:
        op = self.op
        i = "        "
        result = op.result
        client = f"{self.await_}self._client"
        if result.kind == "pager":
            options = ", ".join(f"{o}={o}" for o in op.query_options if o != "count")
            pager = "AsyncPager" if self.is_async else "Pager"
            item = _output_annotation(result.annotation)
            simple = len(self.path_lines(i)) == 1
            if simple:
                lines = self.path_lines(i)
                target = "path"
            else:
                # The build check waits until the pager is iterated, like every request of a pager.
                lines = ["", f"{i}{'async ' if self.is_async else ''}def path_now() -> str:"]
                lines += self.path_lines(i + "    ")
                lines.append(f"{i}    return path")
                lines.append("")
                target = "path_now"
            lines.append(f"{i}return {pager}(self._client, {target}, {item}, page_size=page_size, {options})")
            return lines
        lines = self.path_lines(i)
        query = ", ".join(f"{o}={o}" for o in op.query_options)
        if result.kind == "download":
            lines.append(f"{i}return {client}.download(path, file)")
            return lines
        if op.kind == "create":
            call = f"{client}.post(path, json=to_wire(body))"
        elif op.kind == "update":
            lines.append(f"{i}{client}.patch(path, json=to_wire(body))")
            return lines
        elif op.kind == "delete":
            lines.append(f"{i}{client}.delete(path, etag={'etag' if op.etag else 'None'})")
            return lines
        elif op.http_method == "POST":
            if op.body_fields:
                required = [f for f in op.body_fields if not f.optional]
                optional = [f for f in op.body_fields if f.optional]
                items = ", ".join(f'"{f.wire}": to_wire({f.python})' for f in required)
                lines.append(f"{i}body: dict[str, Any] = {{{items}}}")
                for f in optional:
                    lines.append(f"{i}if {f.python} is not None:")
                    lines.append(f'{i}    body["{f.wire}"] = to_wire({f.python})')
                if op.operation_id in self.drift.body_fields:
                    lines.append(f'{i}{self.await_}self._guard.check_body("{op.operation_id}", body)')
                call = f"{client}.post(path, json=body)"
            else:
                call = f"{client}.post(path)"
        else:
            call = f"{client}.get(path{', ' + query if query else ''})"
        if result.kind == "none":
            lines.append(f"{i}{call}")
        elif result.kind == "model":
            reader = "parse_optional_model" if result.nullable else "parse_model"
            lines.append(f"{i}return {reader}({result.annotation}, {call})")
        elif result.kind == "value":
            reader = "parse_optional_value" if result.nullable else "parse_value"
            lines.append(f"{i}return {reader}({_output_annotation(result.annotation)}, {call})")
        elif result.kind == "list":
            lines.append(f"{i}return parse_list({_output_annotation(result.annotation)}, {call})")
        else:
            raise ValueError(f"unknown result kind {result.kind}")
        return lines

    def render(self) -> list[str]:
        return [*self.signature(), self.doc(), *[wrap_line(line) for line in self.body()]]


def write_resource(
    resource: Resource, drift: SpecDrift, sha256: str, spec_file: str, owners: dict[str, str], package: str
) -> str:
    """The text of ``_generated/resources/<module>.py`` for one resource.

    ``owners`` maps each model class to its module in ``package`` (the schemas package): the
    resource imports only the models it uses, so using it loads only those.
    """
    sync_class = resource.class_name
    async_class = "Async" + resource.class_name
    methods: dict[bool, list[str]] = {}
    for is_async in (False, True):
        rendered: list[str] = []
        for operation in resource.operations:
            rendered += ["", *MethodWriter(resource, operation, drift, is_async).render()]
        methods[is_async] = rendered
    text_all = "\n".join(methods[False] + methods[True])
    used_models = sorted(set(_MODEL_REFERENCE.findall(text_all)))
    for is_async in (False, True):
        methods[is_async] = [_MODEL_REFERENCE.sub(r"\1", line) for line in methods[is_async]]
    text_all = "\n".join(methods[False] + methods[True])
    model_imports: dict[str, list[str]] = {}
    for name in used_models:
        model_imports.setdefault(owners[name], []).append(name)
    imports = _imports(
        text_all,
        [
            f"from {package}.{module} import {', '.join(sorted(names, key=isort_key))}"
            for module, names in model_imports.items()
        ],
    )
    count = len(resource.operations)
    plural = "s" if count != 1 else ""
    title = f"``client.xapi.{resource.attribute}``: the {count} operation{plural} tagged {resource.tag}."
    out = [
        file_header(sha256, spec_file, title),
        "from __future__ import annotations",
        "",
        *imports,
        "",
        "__all__ = ["
        + ", ".join(f'"{name}"' for name in sorted([async_class, sync_class], key=all_sort_key))
        + "]",
        "",
        "",
        f"class {sync_class}(SyncResource):",
        docstring(f"{resource.tag}: ``client.xapi.{resource.attribute}`` on a ``Client``.", 4),
        *methods[False],
        "",
        "",
        f"class {async_class}(AsyncResource):",
        docstring(f"{resource.tag}: ``client.xapi.{resource.attribute}`` on an ``AsyncClient``.", 4),
        *methods[True],
    ]
    return "\n".join(out) + "\n"


def _imports(text: str, model_imports: list[str]) -> list[str]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))

    def used(name: str) -> bool:
        return name in words

    lines: list[str] = []
    if used("builtins"):
        lines.append("import builtins")
    stdlib: list[str] = []
    abc = [name for name in ("Mapping", "Sequence") if used(name)]
    if abc:
        stdlib.append(f"from collections.abc import {', '.join(abc)}")
    dates = [name for name in ("datetime", "timedelta") if used(name)]
    if dates:
        stdlib.append(f"from datetime import {', '.join(dates)}")
    typing_names = [name for name in ("Any",) if used(name)]
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    if used("UUID"):
        stdlib.append("from uuid import UUID")
    lines += stdlib
    if lines:
        lines.append("")
    first_party = list(model_imports)
    odata = [name for name in ("Typed", "action_path", "function_path", "key_path") if used(name)]
    if odata:
        first_party.append(f"from py3cx.odata import {', '.join(odata)}")
    if used("as_legacy_argument"):
        first_party.append("from py3cx.xapi._drift import as_legacy_argument")
    if used("to_wire"):
        first_party.append("from py3cx.xapi._model_base import to_wire")
    pagers = [name for name in ("AsyncPager", "Pager") if used(name)]
    if pagers:
        first_party.append(f"from py3cx.xapi._pager import {', '.join(pagers)}")
    # isort order: by module path (the generated schemas sort before _model_base, _pager...).
    lines += [wrap_import(line) for line in sorted(first_party, key=lambda line: line.split(" import ")[0])]
    runtime = ["AsyncResource"] + [
        name
        for name in (
            "FieldsArg",
            "FileArg",
            "FilterArg",
            "parse_list",
            "parse_model",
            "parse_optional_model",
            "parse_optional_value",
            "parse_value",
            "time_span",
        )
        if used(name)
    ]
    runtime.insert(runtime.index("FilterArg") + 1 if "FilterArg" in runtime else len(runtime), "SyncResource")
    runtime = sorted(runtime, key=lambda name: (name[0].islower(), name))
    lines.append("from py3cx.xapi._resource import (")
    lines += [f"    {name}," for name in runtime]
    lines.append(")")
    return lines


def write_facade(resources: list[Resource], sha256: str, spec_file: str) -> str:
    """The text of ``_generated/facade.py``: one lazily loaded property per resource."""
    out = [
        file_header(sha256, spec_file, "The resources of ``client.xapi``, each imported on first use."),
        "from __future__ import annotations",
        "",
        "import functools",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
        "    from py3cx.xapi._drift import AsyncVersionGuard, VersionGuard",
    ]
    for resource in sorted(resources, key=lambda resource: resource.module):
        names = ", ".join(sorted([f"Async{resource.class_name}", resource.class_name], key=isort_key))
        line = wrap_import(f"from py3cx.xapi._generated.resources.{resource.module} import {names}", 106)
        out.append("\n".join("    " + part for part in line.splitlines()))
    out += [
        "    from py3cx.xapi._resource import AsyncXapiClient, XapiClient",
        "",
        '__all__ = ["AsyncXapiResources", "XapiResources"]',
    ]
    for is_async in (False, True):
        prefix = "Async" if is_async else ""
        kind = "an ``AsyncClient``" if is_async else "a ``Client``"
        out += [
            "",
            "",
            f"class {prefix}XapiResources:",
            docstring(f"Every XAPI resource of {kind}; a resource's module loads when it is first used.", 4),
            "",
            f"    _client: {prefix}XapiClient",
            f"    _guard: {prefix}VersionGuard",
        ]
        for resource in resources:
            cls = prefix + resource.class_name
            count = len(resource.operations)
            summary = f"{resource.tag}: {count} operation{'s' if count != 1 else ''}."
            out += [
                "",
                "    @functools.cached_property",
                f"    def {resource.attribute}(self) -> {cls}:",
                docstring(summary, 8),
                "\n".join(
                    "        " + part
                    for part in wrap_import(
                        f"from py3cx.xapi._generated.resources.{resource.module} import {cls}", 102
                    ).splitlines()
                ),
                "",
                f"        return {cls}(self._client, self._guard)",
            ]
    return "\n".join(out) + "\n"
