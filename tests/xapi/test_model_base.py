"""The pieces every generated model is made of, and the real generated models built on them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from py3cx.xapi import OpenEnum, to_wire
from py3cx.xapi.models import (
    CallHistoryView,
    CallLogData,
    ConcealedPassword,
    EventLog,
    EventLogType,
    MailSettings,
    PeerType,
    Queue,
    QueueAgent,
    User,
)


class Color(OpenEnum):
    Red = "Red"
    Green = "Green"


def test_open_enum_keeps_a_member_it_does_not_know() -> None:
    purple = Color("Purple")
    assert purple == "Purple" and purple.value == "Purple" and str(purple) == "Purple"
    assert not purple.is_known and Color("Red").is_known
    assert list(Color) == [Color.Red, Color.Green]


def test_open_enum_refuses_what_is_not_text() -> None:
    with pytest.raises(ValueError):
        Color(3)


def test_to_wire_gives_json_ready_values() -> None:
    moment = datetime(2025, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert to_wire(
        {
            "when": moment,
            "day": date(2025, 3, 1),
            "wait": timedelta(seconds=90),
            "kind": Color.Green,
            "ids": (1, 2),
            "tags": {"a"},
            "id": UUID(int=1),
            "cost": Decimal("0.05"),
            "user": User(FirstName="Ann"),
        }
    ) == {
        "when": "2025-03-01T00:00:00Z",
        "day": "2025-03-01",
        "wait": "PT1M30S",
        "kind": "Green",
        "ids": [1, 2],
        "tags": ["a"],
        "id": "00000000-0000-0000-0000-000000000001",
        "cost": "0.05",
        "user": {"FirstName": "Ann"},
    }


def test_to_wire_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="time zone"):
        to_wire(datetime(2025, 3, 1))


def test_to_wire_refuses_what_has_no_json_form() -> None:
    with pytest.raises(TypeError):
        to_wire(object())


def test_user_update_sends_only_what_was_set_with_wire_names() -> None:
    change = User(FirstName="Ann", VMEnabled=False)
    assert change.to_wire() == {"FirstName": "Ann", "VMEnabled": False}


def test_a_model_read_from_the_pbx_and_changed_sends_what_it_was_read_with() -> None:
    user = User.model_validate({"Id": 7, "Number": "100"})
    user.FirstName = "Ann"
    # Assignment marks the field as set, so a read-modify-write PATCH carries it.
    assert user.to_wire() == {"Id": 7, "Number": "100", "FirstName": "Ann"}


def test_call_history_durations_and_times_are_typed() -> None:
    row = CallHistoryView.model_validate(
        {"CallTime": "PT1M16.46S", "SegmentStartTime": "2025-03-13T23:00:00Z", "SegmentId": 5}
    )
    assert row.CallTime == timedelta(seconds=76.46)
    assert row.SegmentStartTime == datetime(2025, 3, 13, 23, tzinfo=timezone.utc)


def test_call_log_keeps_its_lower_case_wire_name() -> None:
    assert CallLogData.model_validate({"actionDnDn": "100"}).actionDnDn == "100"


def test_an_enum_property_of_a_real_model_tolerates_a_newer_member() -> None:
    event = EventLog.model_validate({"Type": "Critical2030"})
    assert event.Type == "Critical2030" and not event.Type.is_known
    assert EventLog.model_validate({"Type": "Warning"}).Type is EventLogType.Warning


def test_enum_members_that_are_keywords_or_start_with_a_digit_are_reachable() -> None:
    assert PeerType("None") is PeerType.None_


def test_queue_agents_are_models() -> None:
    queue = Queue.model_validate({"Number": "0336", "Agents": [{"Number": "100", "SkillGroup": "1"}]})
    assert isinstance(queue.Agents[0], QueueAgent) and queue.Number == "0336"


def test_passwords_and_keys_never_show_in_a_repr() -> None:
    user = User(Id=1, AuthPassword="sip-secret", VMPIN="4321", AccessPassword="web-secret")
    settings = MailSettings(MailPassword=ConcealedPassword(Value="smtp-secret"))
    shown = repr(user) + str(user) + repr(settings) + repr(ConcealedPassword(Value="smtp-secret"))
    assert not any(secret in shown for secret in ("sip-secret", "4321", "web-secret", "smtp-secret"))
    assert user.AuthPassword == "sip-secret"
