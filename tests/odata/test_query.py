"""build_query(): OData query options as a query string that nothing in a value can split."""

from urllib.parse import parse_qsl

import pytest

from py3cx.odata import F, build_query, encode_query_value, query_params


def test_the_powershell_call_history_query() -> None:
    query = build_query(
        filter="date(SegmentStartTime) ge 2025-03-01 and date(SegmentStartTime) le 2025-03-15",
        count=True,
        orderby="SegmentStartTime asc",
        skip=0,
        top=100,
    )
    assert query == (
        "$filter=date(SegmentStartTime)%20ge%202025-03-01%20and%20date(SegmentStartTime)%20le%202025-03-15"
        "&$orderby=SegmentStartTime%20asc&$top=100&$skip=0&$count=true"
    )


def test_no_options_give_an_empty_string() -> None:
    assert build_query() == ""


def test_spaces_are_percent_20_never_plus() -> None:
    query = build_query(orderby="EstablishedAt desc")
    assert query == "$orderby=EstablishedAt%20desc"
    assert "+" not in build_query(filter=F("Name") == "a b+c")


def test_characters_that_could_split_the_query_are_encoded() -> None:
    query = build_query(filter=F("Name") == "a&$top=1#x+y%z;w?v")
    assert query == "$filter=Name%20eq%20'a%26$top%3D1%23x%2By%25z%3Bw%3Fv'"
    assert query.count("&") == 0 and query.count("=") == 1


def test_non_ascii_and_control_characters_are_utf8_percent_encoded() -> None:
    assert encode_query_value("Čakovec\n") == "%C4%8Cakovec%0A"


def test_odata_punctuation_stays_readable() -> None:
    assert encode_query_value("Groups/any(g:g/Id eq 1),'x'*@p$it") == "Groups/any(g:g/Id%20eq%201),'x'*@p$it"


def test_a_lone_surrogate_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        encode_query_value("\ud800")


def test_select_expand_and_orderby_take_sequences_and_are_comma_joined() -> None:
    query = build_query(select=["Id", "FirstName"], expand=("Groups",), orderby=["LastName", "Id desc"])
    assert query == "$select=Id,FirstName&$expand=Groups&$orderby=LastName,Id%20desc"


def test_select_text_is_normalised() -> None:
    assert build_query(select="Id, FirstName ,*") == "$select=Id,FirstName,*"


def test_orderby_direction_is_normalised_to_lower_case() -> None:
    assert build_query(orderby="Id DESC,  Name   Asc") == "$orderby=Id%20desc,Name%20asc"


@pytest.mark.parametrize("orderby", ["Id descending", "Id desc;drop", "Id,", "", "tolower(Name)"])
def test_an_orderby_item_that_is_not_a_property_and_direction_is_refused(orderby: str) -> None:
    with pytest.raises(ValueError):
        build_query(orderby=orderby)


@pytest.mark.parametrize("select", ["Id Name", "Id,,Name", "Id)", [], "null"])
def test_a_select_item_that_is_not_a_property_is_refused(select: object) -> None:
    with pytest.raises(ValueError):
        build_query(select=select)  # type: ignore[arg-type]


def test_expand_keeps_nested_options_whole() -> None:
    query = build_query(expand="Groups($select=Name,Id;$top=5)")
    assert parse_qsl(query) == [("$expand", "Groups($select=Name,Id;$top=5)")]


def test_top_and_skip_must_be_non_negative_ints() -> None:
    with pytest.raises(ValueError):
        build_query(top=-1)
    with pytest.raises(TypeError):
        build_query(skip=True)
    with pytest.raises(TypeError):
        build_query(top="10")  # type: ignore[arg-type]


def test_count_must_be_a_bool() -> None:
    assert build_query(count=False) == "$count=false"
    with pytest.raises(TypeError):
        build_query(count=1)  # type: ignore[arg-type]


def test_an_empty_filter_is_refused() -> None:
    with pytest.raises(ValueError):
        build_query(filter="  ")
    with pytest.raises(TypeError):
        build_query(filter=5)  # type: ignore[arg-type]


def test_search_is_encoded_like_any_value() -> None:
    assert build_query(search="O'Brien & co") == "$search=O'Brien%20%26%20co"


def test_extra_parameters_are_appended_and_encoded() -> None:
    query = build_query(top=1, extra={"@p1": "'a&b'", "x y": "1"})
    assert parse_qsl(query) == [("$top", "1"), ("@p1", "'a&b'"), ("x y", "1")]


def test_extra_cannot_smuggle_a_query_option() -> None:
    with pytest.raises(ValueError, match="keyword"):
        build_query(extra={"$top": "5"})


def test_query_params_returns_encoded_pairs_in_order() -> None:
    assert query_params(filter=F("A") == "x y", top=5) == [("$filter", "A%20eq%20'x%20y'"), ("$top", "5")]
