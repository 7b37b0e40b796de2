"""The plan computation as pure functions: a directory snapshot and rows in, a plan out."""

from __future__ import annotations

from typing import Any

import pytest

from py3cx import ConfigError
from py3cx.provisioning import (
    Action,
    Directory,
    Plan,
    SourceRow,
    compute_department_plan,
    compute_queue_plan,
    compute_user_plan,
)

SALES = {"Id": 2, "Number": "GRP0001", "Name": "Sales"}
SUPPORT = {"Id": 3, "Number": "GRP0002", "Name": "Support"}
DEFAULT = {"Id": 1, "Number": "GRP0000", "Name": "DEFAULT", "IsDefault": True}


def user(
    uid: int, number: str, email: str, first: str = "Ann", group: dict[str, Any] = SALES, **extra: Any
) -> dict[str, Any]:
    membership = {"GroupId": group["Id"], "Name": group["Name"], "Rights": {"RoleName": "managers"}}
    return {
        "Id": uid,
        "Number": number,
        "EmailAddress": email,
        "FirstName": first,
        "Groups": [membership],
        **extra,
    }


DIRECTORY = Directory(
    users=[
        user(1, "100", "ann.lee@example.com", "Ann", Mobile="+44 7700 900123"),
        user(2, "101", "bob@example.com", "Bob", SUPPORT),
        user(3, "102", "shared@example.com", "Cy"),
        user(4, "103", "SHARED@example.com", "Di"),
    ],
    groups=[DEFAULT, SALES, SUPPORT],
    queues=[
        {
            "Id": 31,
            "Number": "0336",
            "Name": "Sales Queue",
            "Agents": [
                {"Id": 1, "Number": "100", "SkillGroup": "2"},
                {"Id": 2, "Number": "101", "SkillGroup": "1"},
            ],
        }
    ],
    peers=[{"Number": "800", "Name": "Ring all", "Type": "RingGroup"}],
)


def rows(*values: dict[str, str], first_line: int = 2) -> list[SourceRow]:
    return [SourceRow(first_line + i, v) for i, v in enumerate(values)]


def only(plan: Plan) -> Any:
    assert len(plan.changes) == 1, plan.changes
    return plan.changes[0]


def test_user_matched_by_email_in_another_case_with_same_fields_is_unchanged() -> None:
    plan = compute_user_plan(
        rows({"Email": "Ann.Lee@EXAMPLE.com", "FirstName": "Ann", "Department": "sales"}), DIRECTORY
    )
    change = only(plan)
    assert (change.action, change.id, change.line) == (Action.UNCHANGED, 1, 2)


def test_changed_name_is_an_update_of_only_that_field() -> None:
    change = only(
        compute_user_plan(
            rows({"Email": "ann.lee@example.com", "FirstName": "Anna", "LastName": ""}), DIRECTORY
        )
    )
    assert change.action is Action.UPDATE
    assert dict(change.body) == {"FirstName": "Anna"}  # a blank cell leaves the field alone
    assert dict(change.before) == {"FirstName": "Ann"}
    assert change.describe() == "FirstName: Ann -> Anna"


def test_changing_a_users_number_is_a_conflict_not_a_patch() -> None:
    change = only(compute_user_plan(rows({"Email": "ann.lee@example.com", "Number": "150"}), DIRECTORY))
    assert change.action is Action.CONFLICT
    assert "does not change a user's number" in change.reason
    assert not change.body


def test_new_user_without_number_asks_the_pbx_for_the_first_free_extension() -> None:
    change = only(
        compute_user_plan(
            rows({"Email": "new@example.com", "FirstName": "New", "Department": "GRP0002"}), DIRECTORY
        )
    )
    assert change.action is Action.CREATE
    assert change.allocate_number
    assert "Number" not in change.body
    assert change.body["Groups"] == [{"GroupId": 3, "Rights": {"RoleName": "users"}}]


def test_new_user_with_a_number_any_dn_holds_is_a_conflict() -> None:
    plan = compute_user_plan(
        rows({"Email": "q@example.com", "Number": "0336"}, {"Email": "r@example.com", "Number": "800"}),
        DIRECTORY,
    )
    assert [c.action for c in plan.changes] == [Action.CONFLICT, Action.CONFLICT]
    assert "Queue 0336 Sales Queue" in plan.changes[0].reason
    assert "RingGroup 800" in plan.changes[1].reason


def test_bad_email_unknown_department_and_bad_number_are_invalid_rows_with_their_lines() -> None:
    plan = compute_user_plan(
        rows(
            {"Email": "not-an-address", "Number": "", "Department": ""},
            {"Email": "ok@example.com", "Number": "", "Department": "Nowhere"},
            {"Email": "ok2@example.com", "Number": "1O1", "Department": ""},
            {"Email": "ok3@example.com", "Number": "", "Department": "Support"},
        ),
        DIRECTORY,
    )
    assert [(c.line, c.action) for c in plan.skipped] == [
        (2, Action.INVALID),
        (3, Action.INVALID),
        (4, Action.INVALID),
    ]
    assert "not a valid e-mail address" in plan.skipped[0].reason
    assert "unknown department 'Nowhere' (departments: DEFAULT, Sales, Support)" in plan.skipped[1].reason
    assert "not a DN number" in plan.skipped[2].reason
    assert plan.of(Action.CREATE)[0].line == 5


def test_bad_mobile_number_makes_the_row_invalid() -> None:
    change = only(compute_user_plan(rows({"Email": "ann.lee@example.com", "Mobile": "call me"}), DIRECTORY))
    assert change.action is Action.INVALID
    assert change.reason.startswith("Mobile:")


def test_the_same_user_twice_in_a_file_makes_the_second_row_invalid() -> None:
    plan = compute_user_plan(
        rows({"Email": "new@example.com", "Number": "150"}, {"Email": "NEW@example.com", "Number": "151"}),
        DIRECTORY,
    )
    assert [c.action for c in plan.changes] == [Action.CREATE, Action.INVALID]
    assert plan.changes[1].reason == "same user as line 2"


def test_one_number_on_two_rows_makes_the_second_row_invalid() -> None:
    plan = compute_user_plan(
        rows({"Email": "a@example.com", "Number": "150"}, {"Email": "b@example.com", "Number": "150"}),
        DIRECTORY,
    )
    assert plan.changes[1].reason == "number 150 is also on line 2"


def test_an_email_two_pbx_users_share_is_a_conflict() -> None:
    change = only(compute_user_plan(rows({"Email": "shared@example.com"}), DIRECTORY))
    assert change.action is Action.CONFLICT
    assert change.reason == "users 102, 103 all have this e-mail"


def test_moving_a_user_to_another_department_keeps_the_users_role() -> None:
    change = only(
        compute_user_plan(rows({"Email": "ann.lee@example.com", "Department": "Support"}), DIRECTORY)
    )
    assert change.body == {"Groups": [{"GroupId": 3, "Rights": {"RoleName": "managers"}}]}
    assert change.describe() == "Groups: Sales -> Support"


def test_the_same_mobile_written_differently_is_unchanged() -> None:
    change = only(
        compute_user_plan(rows({"Email": "ann.lee@example.com", "Mobile": "+447700900123"}), DIRECTORY)
    )
    assert change.action is Action.UNCHANGED


def test_local_mobile_numbers_use_the_region() -> None:
    change = only(
        compute_user_plan(
            rows({"Email": "bob@example.com", "Mobile": "07700 900456"}), DIRECTORY, region="GB"
        )
    )
    assert change.body == {"Mobile": "+447700900456"}


def test_matching_by_number_updates_the_email() -> None:
    change = only(
        compute_user_plan(rows({"Number": "101", "Email": "robert@example.com"}), DIRECTORY, match="number")
    )
    assert (change.action, change.id, dict(change.body)) == (
        Action.UPDATE,
        2,
        {"EmailAddress": "robert@example.com"},
    )


def test_matching_by_number_a_row_without_number_is_matched_by_email() -> None:
    change = only(
        compute_user_plan(rows({"Number": "", "Email": "BOB@example.com"}), DIRECTORY, match="number")
    )
    assert (change.action, change.id) == (Action.UNCHANGED, 2)


def test_matching_by_number_an_email_of_another_user_is_a_conflict() -> None:
    change = only(
        compute_user_plan(rows({"Number": "150", "Email": "bob@example.com"}), DIRECTORY, match="number")
    )
    assert change.action is Action.CONFLICT
    assert "belongs to user 101" in change.reason


def test_delete_missing_deletes_users_no_row_names_but_spares_those_named_by_bad_rows() -> None:
    plan = compute_user_plan(
        rows({"Email": "ann.lee@example.com"}, {"Email": "bob@example.com", "Department": "Nowhere"}),
        DIRECTORY,
        delete_missing=True,
    )
    assert plan.of(Action.INVALID)[0].line == 3
    assert sorted(c.id for c in plan.of(Action.DELETE)) == [3, 4]  # bob (invalid row) is kept


def test_delete_missing_with_no_valid_row_is_refused() -> None:
    with pytest.raises(ConfigError, match="no valid row"):
        compute_user_plan(rows({"Email": "broken"}), DIRECTORY, delete_missing=True)
    with pytest.raises(ConfigError, match="no valid row"):
        compute_user_plan([], DIRECTORY, delete_missing=True)


def test_unknown_column_and_missing_key_column_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown column 'Emial'"):
        compute_user_plan(rows({"Emial": "a@example.com"}), DIRECTORY)
    with pytest.raises(ConfigError, match="no e-mail column"):
        compute_user_plan(rows({"Number": "150"}), DIRECTORY)
    with pytest.raises(ConfigError, match="no number column"):
        compute_user_plan(rows({"Email": "a@example.com"}), DIRECTORY, match="number")


def test_plan_counts_every_action() -> None:
    plan = compute_user_plan(
        rows({"Email": "ann.lee@example.com"}, {"Email": "new@example.com"}, {"Email": "x"}), DIRECTORY
    )
    assert plan.counts() == {
        "invalid": 1,
        "conflict": 0,
        "create": 1,
        "update": 0,
        "delete": 0,
        "unchanged": 1,
    }
    assert [c.action for c in plan.ordered()] == [Action.INVALID, Action.CREATE, Action.UNCHANGED]


# -- departments -------------------------------------------------------------------------------


def test_department_is_matched_by_name_in_any_case_and_a_case_change_renames_it() -> None:
    plan = compute_department_plan(rows({"Name": "Sales"}, {"Name": "support"}, {"Name": "Legal"}), DIRECTORY)
    assert [c.action for c in plan.changes] == [Action.UNCHANGED, Action.UPDATE, Action.CREATE]
    assert dict(plan.changes[1].body) == {"Name": "support"}


def test_delete_missing_never_deletes_the_default_department() -> None:
    plan = compute_department_plan(rows({"Department": "Sales"}), DIRECTORY, delete_missing=True)
    assert [c.label for c in plan.of(Action.DELETE)] == ["Support"]


def test_department_file_needs_a_name_column() -> None:
    with pytest.raises(ConfigError, match="no Name column"):
        compute_department_plan(rows({"Language": "EN"}), DIRECTORY)


# -- queues ------------------------------------------------------------------------------------


def test_queue_agents_in_another_order_are_unchanged() -> None:
    change = only(compute_queue_plan(rows({"Number": "0336", "Agents": "101 100"}), DIRECTORY))
    assert change.action is Action.UNCHANGED


def test_queue_agent_list_update_keeps_each_kept_agents_own_entry() -> None:
    change = only(compute_queue_plan(rows({"Number": "0336", "Agents": "100, 102"}), DIRECTORY))
    assert change.action is Action.UPDATE
    assert change.body["Agents"] == [
        {"Id": 1, "Number": "100", "SkillGroup": "2"},  # as the PBX gave it
        {"Id": 3, "Name": "Cy", "Number": "102"},
    ]
    assert change.describe() == "Agents: [100 101] -> [100 102]"


def test_queue_number_without_its_leading_zero_is_another_queue() -> None:
    change = only(compute_queue_plan(rows({"Number": "336", "Name": "Other"}), DIRECTORY))
    assert (change.action, change.body["Number"]) == (Action.CREATE, "336")


def test_unknown_agent_makes_the_queue_row_invalid() -> None:
    change = only(compute_queue_plan(rows({"Number": "0336", "Agents": "100 999"}), DIRECTORY))
    assert change.action is Action.INVALID
    assert change.reason == "unknown agent extension(s): 999"


def test_queue_row_without_number_is_matched_by_name_or_created_with_the_first_free_number() -> None:
    plan = compute_queue_plan(
        rows({"Name": "sales queue", "RingTimeout": "25"}, {"Name": "Night"}), DIRECTORY
    )
    assert [c.action for c in plan.changes] == [Action.UPDATE, Action.CREATE]
    assert dict(plan.changes[0].body) == {"Name": "sales queue", "RingTimeout": 25}
    assert plan.changes[1].allocate_number


def test_new_queue_needs_a_name_and_its_number_must_be_free() -> None:
    plan = compute_queue_plan(rows({"Number": "0400"}, {"Number": "101", "Name": "Taken"}), DIRECTORY)
    assert [c.action for c in plan.changes] == [Action.INVALID, Action.CONFLICT]
    assert plan.changes[0].reason == "a new queue needs a Name"
    assert "Extension 101" in plan.changes[1].reason
