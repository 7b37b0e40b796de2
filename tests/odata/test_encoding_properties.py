"""Property tests: whatever the text, the encoded filter, query string and path read back exactly.

The readers are independent: odata-query's parser (the emulator's), urllib's query-string parser,
percent-decoding, and httpx2's URL parser (the client's).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

import httpx2
from hypothesis import given
from hypothesis import strategies as st
from odata_query import ast
from odata_query.grammar import ODataLexer, ODataParser

from py3cx.odata import Expr, F, build_query, function_path, key_path, literal

# All of Unicode except lone surrogates (no UTF-8 form, refused by the URL encoders), with the
# characters that matter for quoting and URLs made frequent.
TRICKY = "'\"%#&+/=?;,()$@ \t\r\n\x00\x7f\u00a0\u2028Č☎"
texts = st.text(
    alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8")),
    max_size=40,
)
PBX_URL = "https://pbx.example.com:5001/xapi/v1/"


def parse_filter(text: str) -> ast._Node:
    tree: ast._Node = ODataParser().parse(ODataLexer().tokenize(text))
    return tree


@given(texts)
def test_a_string_value_parses_back_as_one_comparison_with_exactly_that_string(value: str) -> None:
    tree = parse_filter((F("LastName") == value).to_odata())
    assert isinstance(tree, ast.Compare) and isinstance(tree.comparator, ast.Eq)
    assert tree.left == ast.Identifier("LastName")
    assert tree.right == ast.String(value)


@given(texts)
def test_a_string_in_a_function_call_parses_back_exactly(value: str) -> None:
    tree = parse_filter(F("LastName").contains(value).to_odata())
    assert isinstance(tree, ast.Call) and tree.func == ast.Identifier("contains")
    assert tree.args == [ast.Identifier("LastName"), ast.String(value)]


@given(texts)
def test_the_query_string_holds_exactly_one_parameter_with_the_filter_text(value: str) -> None:
    expr = F("LastName") == value
    query = build_query(filter=expr)
    assert parse_qsl(query, keep_blank_values=True) == [("$filter", expr.to_odata())]


@given(texts, st.integers(min_value=0, max_value=10**6))
def test_httpx2_reads_the_same_parameters_from_the_url(value: str, top: int) -> None:
    expr = F("LastName") == value
    url = httpx2.URL(PBX_URL + "Users?" + build_query(filter=expr, top=top))
    assert list(url.params.multi_items()) == [("$filter", expr.to_odata()), ("$top", str(top))]


@given(texts, texts)
def test_a_function_argument_percent_decodes_to_its_literal(first: str, second: str) -> None:
    path = function_path("ReportAbandonedQueueCalls", "Pbx.GetData", queueDns=first, other=second)
    prefix = "ReportAbandonedQueueCalls/Pbx.GetData("
    assert path.startswith(prefix) and path.endswith(")")
    # No encoded literal holds a separator, so the argument list splits unambiguously.
    arguments = path[len(prefix) : -1].split(",")
    assert [argument.partition("=")[0] for argument in arguments] == ["queueDns", "other"]
    assert [unquote(argument.partition("=")[2]) for argument in arguments] == [
        literal(first),
        literal(second),
    ]


@given(texts)
def test_a_function_path_stays_one_url_path_whatever_the_argument(value: str) -> None:
    path = function_path("X", "Pbx.F", s=value)
    assert path.isascii() and path.isprintable()
    assert not set(path) & set(" ?#/\\") - {"/"} and path.count("/") == 1
    url = httpx2.URL(PBX_URL + path)
    assert url.raw_path.decode("ascii") == "/xapi/v1/" + path
    assert url.query == b""


@given(texts)
def test_a_string_key_percent_decodes_to_its_literal(value: str) -> None:
    path = key_path("Users", Number=value)
    assert path.startswith("Users(Number=") and path.endswith(")")
    assert unquote(path[len("Users(Number=") : -1]) == literal(value)


# Random boolean trees: the text must parse back with the structure that was built.

# Words odata-query's lexer takes for keywords even where OData means a property (e.g. "All").
KEYWORDS = {"not", "any", "all", "null", "true", "false", "inf", "nan"}
names = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n.lower() not in KEYWORDS)
values = st.one_of(texts, st.integers(min_value=-(2**40), max_value=2**40))
comparisons = st.builds(
    lambda name, op, value: (getattr(F(name), op)(value), ("cmp", name, op, value)),
    names,
    st.sampled_from(["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]),
    values,
)

Shape = tuple[object, ...]


def _combine(children: st.SearchStrategy[tuple[Expr, Shape]]) -> st.SearchStrategy[tuple[Expr, Shape]]:
    return st.one_of(
        st.tuples(children, children).map(lambda p: (p[0][0] & p[1][0], ("and", p[0][1], p[1][1]))),
        st.tuples(children, children).map(lambda p: (p[0][0] | p[1][0], ("or", p[0][1], p[1][1]))),
        children.map(lambda c: (~c[0], ("not", c[1]))),
    )


trees = st.recursive(comparisons, _combine, max_leaves=8)

OPERATORS = {"__eq__": ast.Eq, "__ne__": ast.NotEq, "__lt__": ast.Lt, "__le__": ast.LtE}
OPERATORS.update({"__gt__": ast.Gt, "__ge__": ast.GtE})


def _flatten(kind: str, shape: Shape) -> list[Shape]:
    # and/or are associative: compare chains, not the nesting the builder happened to use.
    if shape[0] == kind:
        return [*_flatten(kind, shape[1]), *_flatten(kind, shape[2])]  # type: ignore[arg-type]
    return [shape]


def _shape_of(node: ast._Node) -> Shape:
    if isinstance(node, ast.BoolOp):
        kind = "and" if isinstance(node.op, ast.And) else "or"
        return (kind, _shape_of(node.left), _shape_of(node.right))
    if isinstance(node, ast.UnaryOp):
        assert isinstance(node.op, ast.Not)
        return ("not", _shape_of(node.operand))
    assert isinstance(node, ast.Compare) and isinstance(node.left, ast.Identifier)
    operator = next(name for name, kind in OPERATORS.items() if isinstance(node.comparator, kind))
    right = node.right
    value = right.py_val if isinstance(right, ast.String | ast.Integer) else None
    return ("cmp", node.left.name, operator, value)


def _normal(shape: Shape) -> object:
    if shape[0] in ("and", "or"):
        return (shape[0], [_normal(part) for part in _flatten(str(shape[0]), shape)])
    if shape[0] == "not":
        return ("not", _normal(shape[1]))  # type: ignore[arg-type]
    return shape


@given(trees)
def test_a_built_expression_parses_back_with_the_same_structure(tree: tuple[Expr, Shape]) -> None:
    expr, shape = tree
    assert _normal(_shape_of(parse_filter(expr.to_odata()))) == _normal(shape)
