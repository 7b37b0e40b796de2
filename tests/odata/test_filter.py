"""The $filter builder: values through literal(), names checked, parentheses where OData needs them."""

from datetime import date, datetime, timedelta, timezone

import pytest
from odata_query import ast
from odata_query.grammar import ODataLexer, ODataParser

from py3cx.odata import Duration, EnumMember, Expr, F, Typed, and_, date_of, or_, tolower, toupper


def parse(expr: Expr) -> ast._Node:
    tree: ast._Node = ODataParser().parse(ODataLexer().tokenize(expr.to_odata()))
    return tree


def test_equality_with_a_quote_is_escaped() -> None:
    assert str(F("LastName") == "O'Brien") == "LastName eq 'O''Brien'"


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (F("Id") != 1, "Id ne 1"),
        (F("Id") > 1, "Id gt 1"),
        (F("Id") >= 1, "Id ge 1"),
        (F("Id") < 1, "Id lt 1"),
        (F("Id") <= 1, "Id le 1"),
        (1 < F("Id"), "Id gt 1"),  # noqa: SIM300  (the reflected operator)
        (F("A") == F("B"), "A eq B"),
        (F("Group/Name") == "Sales", "Group/Name eq 'Sales'"),
        (F("Email").is_null(), "Email eq null"),
        (F("Email").is_not_null(), "Email ne null"),
        (F("CallAnswered") == True, "CallAnswered eq true"),  # noqa: E712
    ],
)
def test_comparisons_map_to_odata_operators(expr: Expr, text: str) -> None:
    assert expr.to_odata() == text


def test_str_and_to_odata_agree() -> None:
    expr = F("Number") == "100"
    assert str(expr) == expr.to_odata()


def test_and_or_not_need_parentheses_only_where_precedence_demands() -> None:
    a, b, c = F("A") == 1, F("B") == 2, F("C") == 3
    assert str(a & b & c) == "A eq 1 and B eq 2 and C eq 3"
    assert str((a | b) & c) == "(A eq 1 or B eq 2) and C eq 3"
    assert str(a & b | c) == "A eq 1 and B eq 2 or C eq 3"
    assert str(a | (b & c)) == "A eq 1 or B eq 2 and C eq 3"
    assert str(~(a | b)) == "not (A eq 1 or B eq 2)"


def test_not_of_a_comparison_is_parenthesised_because_not_binds_tighter() -> None:
    assert str(~(F("Id") == 1)) == "not (Id eq 1)"
    tree = parse(~(F("Id") == 1))
    assert isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not)
    assert isinstance(tree.operand, ast.Compare)


def test_not_of_a_function_call_needs_no_parentheses() -> None:
    assert str(~F("Name").contains("x")) == "not contains(Name,'x')"


def test_the_text_parses_with_the_structure_that_was_built() -> None:
    tree = parse((F("A") == 1) | (F("B") == 2) & (F("C") == 3))
    assert isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.Or)
    assert isinstance(tree.right, ast.BoolOp) and isinstance(tree.right.op, ast.And)
    tree = parse(((F("A") == 1) | (F("B") == 2)) & (F("C") == 3))
    assert isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)
    assert isinstance(tree.left, ast.BoolOp) and isinstance(tree.left.op, ast.Or)


def test_and_and_or_helpers_join_any_number_of_expressions() -> None:
    parts = [F("Number") == n for n in ("100", "101", "102")]
    assert str(or_(*parts)) == "Number eq '100' or Number eq '101' or Number eq '102'"
    assert str(and_(parts[0])) == "Number eq '100'"
    with pytest.raises(ValueError):
        and_()


def test_string_functions() -> None:
    assert str(F("LastName").contains("O'B")) == "contains(LastName,'O''B')"
    assert str(F("Number").startswith("1")) == "startswith(Number,'1')"
    assert str(F("EmailAddress").endswith("@example.com")) == "endswith(EmailAddress,'@example.com')"


def test_case_functions_as_methods_and_as_functions() -> None:
    assert str(F("EmailAddress").lower() == "a@b.hr") == "tolower(EmailAddress) eq 'a@b.hr'"
    assert str(tolower(F("EmailAddress")) == "a@b.hr") == "tolower(EmailAddress) eq 'a@b.hr'"
    assert str(toupper(F("Name")).startswith("A")) == "startswith(toupper(Name),'A')"
    assert str(F("Name").upper() == "A") == "toupper(Name) eq 'A'"


def test_case_functions_refuse_a_plain_string_which_could_be_a_name_or_a_value() -> None:
    with pytest.raises(TypeError):
        tolower("EmailAddress")  # type: ignore[arg-type]


def test_date_of_compares_the_date_part_like_the_powershell_module() -> None:
    expr = (date_of(F("SegmentStartTime")) >= date(2025, 3, 1)) & (
        date_of(F("SegmentStartTime")) <= date(2025, 3, 15)
    )
    assert str(expr) == "date(SegmentStartTime) ge 2025-03-01 and date(SegmentStartTime) le 2025-03-15"


def test_datetime_values_are_utc_literals() -> None:
    since = datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert str(F("SegmentStartTime") >= since) == "SegmentStartTime ge 2025-03-01T00:00:00.000Z"


def test_wrapped_values_work_in_filters() -> None:
    assert str(F("CallTime") > Duration(timedelta(minutes=1))) == "CallTime gt duration'PT1M'"
    assert str(F("Severity") == EnumMember("Pbx.Severity", "All")) == "Severity eq Pbx.Severity'All'"
    assert str(F("Id") == Typed("7", "Edm.Int32")) == "Id eq 7"


def test_in_lists_the_values() -> None:
    assert str(F("Number").in_(["100", "O'B"])) == "Number in ('100','O''B')"
    tree = parse(F("Number").in_(["100", "101"]))
    assert isinstance(tree, ast.Compare) and isinstance(tree.comparator, ast.In)


def test_in_with_one_value_is_an_equality() -> None:
    assert str(F("Number").in_(("100",))) == "Number eq '100'"


def test_in_refuses_an_empty_list_and_a_bare_string() -> None:
    with pytest.raises(ValueError):
        F("Number").in_([])
    with pytest.raises(TypeError):
        F("Number").in_("100")


def test_any_and_all_lambdas() -> None:
    assert str(F("Groups").any("g", F("g/GroupId") == 5)) == "Groups/any(g:g/GroupId eq 5)"
    assert str(F("Groups").any()) == "Groups/any()"
    assert str(F("Groups").all("g", F("g/Name") != "x")) == "Groups/all(g:g/Name ne 'x')"


def test_any_refuses_a_variable_that_is_not_a_name() -> None:
    with pytest.raises(ValueError):
        F("Groups").any("g) or (1 eq 1", F("g/GroupId") == 5)
    with pytest.raises(TypeError):
        F("Groups").any("g", "g/GroupId eq 5")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["", "Last Name", "Name eq 'x' or 1", "A//B", "/A", "A/", "1A", "A-B", "Name)", "Ä", 5]
)
def test_a_property_name_that_is_not_an_identifier_path_is_refused(name: object) -> None:
    with pytest.raises(ValueError):
        F(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["null", "True", "Group/false", "NaN", "INF"])
def test_a_property_named_like_a_literal_is_refused_so_it_cannot_become_a_value(name: str) -> None:
    with pytest.raises(ValueError, match="literal"):
        F(name)


def test_an_expression_has_no_truth_value_so_python_and_fails_loudly() -> None:
    with pytest.raises(TypeError, match="&"):
        bool(F("A") == 1)
    with pytest.raises(TypeError):
        (F("A") == 1) and (F("B") == 2)


def test_a_chained_comparison_fails_loudly() -> None:
    with pytest.raises(TypeError):
        0 < F("Id") < 5  # noqa: B015


def test_forgetting_parentheses_around_comparisons_fails_loudly() -> None:
    with pytest.raises(TypeError):
        F("A") == 1 & F("B") == 2  # type: ignore[operator]  # noqa: B015


def test_combining_an_expression_with_a_string_is_refused() -> None:
    with pytest.raises(TypeError):
        (F("A") == 1) & "B eq 2"  # type: ignore[operator]
    with pytest.raises(TypeError):
        "B eq 2" | (F("A") == 1)


def test_a_value_without_a_literal_is_refused_at_comparison() -> None:
    with pytest.raises(TypeError):
        F("A") == object()  # noqa: B015


def test_repr_shows_the_filter_text() -> None:
    assert repr(F("A") == 1) == "Expr('A eq 1')"
    assert repr(F("A")) == "F('A')"
