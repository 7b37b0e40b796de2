"""Provisioning against the emulated PBX over HTTP: plan, apply, apply again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from py3cx import Client, ConfigError
from py3cx.provisioning import (
    Action,
    add_queue_agents,
    apply_plan,
    find_user,
    plan_departments,
    plan_queues,
    plan_users,
    read_rows,
    remove_queue_agents,
)


def users(client: Client) -> dict[str, dict[str, Any]]:
    return {u["Number"]: u for u in client.paginate("Users", expand="Groups")}


def queue(client: Client, number: str) -> dict[str, Any]:
    from py3cx import F

    found: dict[str, Any] = client.get("Queues", filter=F("Number") == number, expand="Agents")["value"][0]
    return found


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_sync_applied_twice_changes_nothing_the_second_time(client: Client, tmp_path: Path) -> None:
    first = next(iter(users(client).values()))
    email, last, number = first["EmailAddress"].upper(), first.get("LastName", ""), first["Number"]
    staff = write_csv(
        tmp_path,
        "Email,First name,Last name,Number,Department,Mobile\n"
        f"{email},Renamed,{last},{number},Support,+44 7700 900123\n"
        "kim.ohara@example.com,Kim,O'Hara,,Accounts,\n"
        "lee@example.com,Lee,Park,150,,07700 900456\n",
    )
    rows = read_rows(staff)

    plan = plan_users(client, rows, region="GB")
    assert plan.counts()["update"] == 1 and plan.counts()["create"] == 2, plan.as_dict()
    result = apply_plan(client, plan)
    assert result.ok, [o.error for o in result.refused]

    again = plan_users(client, rows, region="GB")
    assert again.counts()["unchanged"] == 3, again.as_dict()
    assert not again.pending
    assert apply_plan(client, again).outcomes == ()

    after = users(client)
    assert after[first["Number"]]["FirstName"] == "Renamed"
    assert after[first["Number"]]["Mobile"] == "+447700900123"
    assert after["150"]["Mobile"] == "+447700900456"
    assert [g["GroupId"] for g in after[first["Number"]]["Groups"]] == [find_group_id(client, "Support")]


def find_group_id(client: Client, name: str) -> int:
    from py3cx.provisioning import find_department

    return int(find_department(client, name)["Id"])


def test_bad_rows_are_reported_by_line_and_the_rest_are_applied(client: Client, tmp_path: Path) -> None:
    taken = next(iter(users(client)))
    staff = write_csv(
        tmp_path,
        "Email,FirstName,Number,Department\n"
        "good@example.com,Good,,\n"
        "not-an-email,Bad,,\n"
        f"taken@example.com,Taken,{taken},\n"
        "lost@example.com,Lost,,Nowhere\n"
        "queue@example.com,Queue,0336,\n"
        "also-good@example.com,Also,,Sales\n",
    )
    result = apply_plan(client, plan_users(client, read_rows(staff)))
    failed = {c.line: c.reason for c in result.failed}
    assert sorted(failed) == [3, 4, 5, 6]
    assert "not a valid e-mail address" in (failed[3] or "")
    assert f"number {taken} is already in use" in (failed[4] or "")
    assert "unknown department 'Nowhere'" in (failed[5] or "")
    assert "Queue 0336" in (failed[6] or "")
    emails = {u.get("EmailAddress") for u in users(client).values()}
    assert {"good@example.com", "also-good@example.com"} <= emails
    assert not emails & {"taken@example.com", "lost@example.com", "queue@example.com"}


def test_a_row_without_number_gets_the_pbxs_first_free_extension(client: Client, tmp_path: Path) -> None:
    free = client.get("Users/Pbx.GetFirstAvailableExtensionNumber()")
    expected = free.get("Number") or free.get("value")
    result = apply_plan(
        client, plan_users(client, read_rows(write_csv(tmp_path, "Email\nnew@example.com\n")))
    )
    assert [o.number for o in result.outcomes] == [expected]
    assert users(client)[expected]["EmailAddress"] == "new@example.com"


def test_changing_a_number_is_a_conflict_and_nothing_is_sent(client: Client, tmp_path: Path) -> None:
    user = next(iter(users(client).values()))
    staff = write_csv(tmp_path, f"Email,Number\n{user['EmailAddress']},199\n")
    plan = plan_users(client, read_rows(staff))
    assert [c.action for c in plan.changes] == [Action.CONFLICT]
    assert apply_plan(client, plan).outcomes == ()
    assert users(client)[user["Number"]]["Id"] == user["Id"]


def test_email_lookup_is_case_insensitive_and_quotes_cannot_inject(client: Client, tmp_path: Path) -> None:
    apply_plan(
        client,
        plan_users(client, read_rows(write_csv(tmp_path, "Email,LastName\no'brien@example.com,O'Brien\n"))),
    )
    assert find_user(client, "O'Brien@Example.com")["LastName"] == "O'Brien"
    with pytest.raises(ConfigError, match="no user"):
        find_user(client, "x' or 1 eq 1 or 'a@example.com")


def test_delete_missing_deletes_only_the_users_the_file_does_not_list(client: Client, tmp_path: Path) -> None:
    before = users(client)
    keep = list(before.values())[:2]
    staff = write_csv(tmp_path, "Email\n" + "".join(f"{u['EmailAddress']}\n" for u in keep))
    plan = plan_users(client, read_rows(staff), delete_missing=True)
    assert len(plan.of(Action.DELETE)) == len(before) - 2
    assert apply_plan(client, plan).ok
    assert sorted(users(client)) == sorted(u["Number"] for u in keep)


def test_xlsx_file_is_planned_and_applied_like_csv(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    for r, row in enumerate(
        [["Email", "FirstName", "Extension"], ["xl@example.com", "Excel", 177], ["broken", "X", None]]
    ):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.close()

    result = apply_plan(client, plan_users(client, read_rows(path)))
    assert [c.line for c in result.failed] == [3]
    assert users(client)["177"]["FirstName"] == "Excel"
    assert not plan_users(client, read_rows(path)).pending


def test_departments_sync_twice_changes_nothing_the_second_time(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "departments.csv"
    path.write_text("Department,Language\nsales,EN\nLegal,DE\n", encoding="utf-8")
    first = apply_plan(client, plan_departments(client, read_rows(path)))
    assert first.ok and first.counts()["create"] == 1 and first.counts()["update"] == 1
    again = plan_departments(client, read_rows(path))
    assert again.counts()["unchanged"] == 2
    names = {g["Name"] for g in client.paginate("Groups")}
    assert {"sales", "Legal", "DEFAULT"} <= names


def test_queues_sync_keeps_leading_zeros_and_a_second_run_changes_nothing(
    client: Client, tmp_path: Path
) -> None:
    numbers = sorted(users(client))
    path = tmp_path / "queues.csv"
    path.write_text(
        f"Queue,Name,Agents\n0336,Sales Queue,{numbers[0]} {numbers[1]}\n0399,Night,{numbers[2]}\n",
        encoding="utf-8",
    )
    result = apply_plan(client, plan_queues(client, read_rows(path)))
    assert result.ok and result.counts()["create"] == 1 and result.counts()["update"] == 1
    assert [a["Number"] for a in queue(client, "0399")["Agents"]] == [numbers[2]]
    assert {a["Number"] for a in queue(client, "0336")["Agents"]} == {numbers[0], numbers[1]}
    assert not plan_queues(client, read_rows(path)).pending


def test_adding_and_removing_agents_keeps_the_other_agents(client: Client) -> None:
    before = queue(client, "0336")["Agents"]
    outsider = next(n for n in sorted(users(client)) if n not in {a["Number"] for a in before})

    added = add_queue_agents(client, "0336", [outsider, before[0]["Number"]])
    assert (added.changed, added.ignored) == ([outsider], [before[0]["Number"]])
    agents = queue(client, "0336")["Agents"]
    assert agents[: len(before)] == before  # untouched entries, skill groups included
    assert agents[-1]["Number"] == outsider

    removed = remove_queue_agents(client, "0336", [before[0]["Number"], "999"])
    assert (removed.changed, removed.ignored) == ([before[0]["Number"]], ["999"])
    assert queue(client, "0336")["Agents"] == [*before[1:], agents[-1]]


def test_adding_an_extension_that_is_no_user_changes_nothing(client: Client) -> None:
    before = queue(client, "0336")["Agents"]
    with pytest.raises(ConfigError, match="not a user's extension: 999"):
        add_queue_agents(client, "0336", ["999"])
    assert queue(client, "0336")["Agents"] == before
    with pytest.raises(ConfigError, match="no queue with number 336"):
        add_queue_agents(client, "336", ["100"])


def test_a_number_the_pbx_refuses_is_reported_by_line_and_the_other_rows_still_apply(
    client: Client, tmp_path: Path
) -> None:
    # ring group 800 holds the number; whether the plan sees it (Peers) or the PBX refuses the
    # POST (ALREADY_IN_USE), the row fails with its line and the next row is created
    staff = write_csv(tmp_path, "Email,Number\nring@example.com,800\nnext@example.com,\n")
    result = apply_plan(client, plan_users(client, read_rows(staff)))
    [(change, why)] = result.problems
    assert change.line == 2
    assert "ALREADY_IN_USE" in why or "already in use" in why
    assert "next@example.com" in {u.get("EmailAddress") for u in users(client).values()}
