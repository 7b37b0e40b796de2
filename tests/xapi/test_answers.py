"""How the typed methods read the PBX's answers (``py3cx.xapi._resource``), as plain functions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from py3cx.odata import TimeSpan
from py3cx.xapi._resource import (
    parse_list,
    parse_model,
    parse_optional_model,
    parse_optional_value,
    parse_value,
    time_span,
)
from py3cx.xapi.models import RemoteAccessStatus, User

CONTEXT = "https://pbx.example.com/xapi/v1/$metadata#Users/$entity"


def test_an_entity_keeps_its_etag_but_not_its_context() -> None:
    user = parse_model(User, {"@odata.context": CONTEXT, "@odata.etag": 'W/"1"', "Id": 7})
    assert user.Id == 7
    assert user.model_extra == {"@odata.etag": 'W/"1"'}


def test_an_empty_answer_to_an_action_is_none() -> None:
    assert parse_optional_model(User, None) is None
    assert parse_optional_model(User, "") is None


def test_a_single_value_is_unwrapped_and_typed() -> None:
    assert parse_value(bool, {"@odata.context": CONTEXT, "value": True}) is True
    assert parse_value(int, {"value": "42"}) == 42
    assert parse_value(RemoteAccessStatus, {"value": "Active"}) is RemoteAccessStatus.Active


def test_a_value_of_the_wrong_type_is_an_error() -> None:
    with pytest.raises(ValidationError):
        parse_value(bool, {"value": "perhaps"})


def test_a_null_value_left_out_of_the_answer_is_none() -> None:
    assert parse_optional_value(RemoteAccessStatus, {"@odata.context": CONTEXT}) is None
    assert parse_optional_value(str, {"value": None}) is None
    assert parse_optional_value(str, {"value": "x"}) == "x"


def test_a_collection_answer_is_a_list_of_items() -> None:
    assert parse_list(str, {"@odata.context": CONTEXT, "value": ["a", "b"]}) == ["a", "b"]
    assert [u.Id for u in parse_list(User, {"value": [{"Id": 1}, {"Id": 2}]})] == [1, 2]
    assert parse_list(User, None) == []


def test_a_timedelta_for_a_time_span_argument_becomes_a_time_span() -> None:
    assert time_span(timedelta(seconds=20)) == TimeSpan(timedelta(seconds=20))
    assert time_span("0:00:20") == "0:00:20"
    assert time_span(None) is None
