"""Users from a file: the columns, the checks on each row, and the plan (pure, no I/O).

A row is matched to a PBX user by e-mail (any case) or by number; a blank cell leaves that field
as it is on the PBX. Traps the plan avoids (spec/BEHAVIOUR.md §5): the PBX refuses to change a
user's ``Number`` by PATCH (a conflict here, not a failed request), and a number held by any DN
is taken. A row without a number gets the PBX's first free extension when it is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Literal

from py3cx._exceptions import ConfigError
from py3cx.odata import F
from py3cx.provisioning.directory import USER_SELECT, Directory, Entity, display_name, read_directory
from py3cx.provisioning.driver import Flow, Read
from py3cx.provisioning.fields import (
    Column,
    cells_by_field,
    checked,
    dn_number,
    email_address,
    external_number,
    header_map,
    same_external_number,
)
from py3cx.provisioning.plan import Action, Change, Plan
from py3cx.provisioning.source import SourceRow

__all__ = ["USER_COLUMNS", "Match", "compute_user_plan", "find_user_flow", "user_plan_flow"]

Match = Literal["email", "number"]

USER_COLUMNS = (
    Column("Number", ("extension", "ext", "extension number")),
    Column("FirstName", ("first name", "first", "given name")),
    Column("LastName", ("last name", "last", "surname", "family name")),
    Column("EmailAddress", ("email", "e-mail", "mail", "email address")),
    Column("Mobile", ("mobile number", "mobile phone", "cell")),
    Column("OutboundCallerID", ("outbound caller id", "caller id")),
    Column("Department", ("group", "department name")),
)
_EXTERNAL = ("Mobile", "OutboundCallerID")
_DEFAULT_ROLE = "users"


def user_plan_flow(
    rows: Sequence[SourceRow],
    *,
    match: Match = "email",
    delete_missing: bool = False,
    region: str | None = None,
) -> Flow[Plan]:
    """Read the directory, then compute the plan (see :func:`compute_user_plan`)."""
    directory = yield from read_directory(users=True, groups=True, queues=True)
    return compute_user_plan(rows, directory, match=match, delete_missing=delete_missing, region=region)


def find_user_flow(reference: str) -> Flow[Entity]:
    """Find one user by extension number or e-mail (any case), departments expanded.

    The e-mail goes through the one literal encoder (``tolower(EmailAddress) eq 'o''brien@...'``),
    never into a formatted filter string.
    Raises ConfigError when no user, or more than one, matches.
    """
    text = reference.strip()
    if "@" in text:
        condition = F("EmailAddress").lower() == text.lower()
    else:
        try:
            condition = F("Number") == dn_number(text)
        except ValueError:
            raise ConfigError(
                f"{reference!r} is neither an extension number nor an e-mail address",
                hint="name a user by extension (101) or e-mail (ann@example.com)",
            ) from None
    found: list[Entity] = yield Read("Users", filter=condition, select=USER_SELECT, expand="Groups")
    if not found:
        raise ConfigError(f"no user {text}", hint="`3cx users list` shows the users")
    if len(found) > 1:
        numbers = ", ".join(str(u.get("Number")) for u in found)
        raise ConfigError(f"users {numbers} all match {text}", hint="name the user by extension number")
    return found[0]


def compute_user_plan(
    rows: Sequence[SourceRow],
    directory: Directory,
    *,
    match: Match = "email",
    delete_missing: bool = False,
    region: str | None = None,
) -> Plan:
    """Compare the rows with the PBX's users and say, per row, what applying would do.

    ``match="email"`` finds a row's user by e-mail (case-insensitive); ``match="number"`` by
    extension number, or by e-mail when the row has no number. ``delete_missing`` adds a delete
    for every user that no row names. ``region`` is the country of phone numbers written
    without ``+``.
    Raises ConfigError for an unknown column, a missing key column, or ``delete_missing`` with
    no valid row (which would delete every user).
    Example: ``plan = compute_user_plan(read_rows("staff.csv"), directory, match="email")``.
    """
    if match not in ("email", "number"):
        raise ConfigError(f"unknown match {match!r}", hint="match users by 'email' or 'number'")
    mapping = header_map(rows, USER_COLUMNS)
    fields = set(mapping.values())
    if match == "email" and "EmailAddress" not in fields and rows:
        raise ConfigError("the file has no e-mail column", hint="add an Email column, or match by number")
    if match == "number" and "Number" not in fields and rows:
        raise ConfigError("the file has no number column", hint="add a Number column, or match by email")
    planner = _UserPlanner(directory, match, region)
    changes = [planner.row(row, cells_by_field(row.values, mapping)) for row in rows]
    if delete_missing:
        if all(c.skipped for c in changes):
            raise ConfigError(
                "refusing to delete users: the file has no valid row",
                hint="fix the file first; --delete-missing deletes every user the file does not list",
            )
        changes.extend(planner.deletions())
    return Plan("Users", tuple(changes))


class _UserPlanner:
    def __init__(self, directory: Directory, match: Match, region: str | None) -> None:
        self.directory = directory
        self.match = match
        self.region = region
        self.by_email = directory.users_by_email()
        self.by_number = directory.users_by_number()
        self.in_use = directory.numbers_in_use()
        self.seen_keys: dict[str, int | None] = {}
        self.seen_numbers: dict[str, int | None] = {}
        self.named: set[Any] = set()  # ids of users some row names (kept by delete_missing)

    def row(self, row: SourceRow, cells: Mapping[str, str]) -> Change:
        self._remember(cells)
        problems: list[str] = []
        body: dict[str, Any] = {}
        number = email = None
        if "Number" in cells:
            number = checked(problems, "Number", partial(dn_number, cells["Number"]))
        if "EmailAddress" in cells:
            email = checked(problems, "Email", partial(email_address, cells["EmailAddress"]))
            if email:
                body["EmailAddress"] = email
        for name in ("FirstName", "LastName"):
            if name in cells:
                body[name] = cells[name]
        for name in _EXTERNAL:
            if name in cells:
                value = checked(problems, name, partial(external_number, cells[name], self.region))
                if value:
                    body[name] = value
        group = None
        if "Department" in cells:
            group = self.directory.find_group(cells["Department"])
            if group is None:
                known = ", ".join(self.directory.group_names()) or "none"
                problems.append(f"unknown department {cells['Department']!r} (departments: {known})")
        label = _label(email or cells.get("EmailAddress"), number or cells.get("Number"), row.line)
        problems.extend(self._duplicates(row, number, email))
        if not problems and email is None and (self.match == "email" or number is None):
            problems.append(
                "no e-mail address to match the user by" if self.match == "email" else "no number or e-mail"
            )
        if problems:
            return Change(Action.INVALID, "Users", label, line=row.line, reason="; ".join(problems))
        return self._plan_row(row, label, number, email, body, group)

    def _remember(self, cells: Mapping[str, str]) -> None:
        # even a row that fails its checks names a user: --delete-missing must keep that user
        raw_email = cells.get("EmailAddress", "").strip().lower()
        for user in self.by_email.get(raw_email, []):
            self.named.add(user.get("Id"))
        raw_number = cells.get("Number", "").strip()
        if raw_number in self.by_number:
            self.named.add(self.by_number[raw_number].get("Id"))

    def _duplicates(self, row: SourceRow, number: str | None, email: str | None) -> list[str]:
        problems = []
        key = email.lower() if email and (self.match == "email" or number is None) else number
        if key is not None:
            if key in self.seen_keys:
                problems.append(f"same user as line {self.seen_keys[key]}")
            else:
                self.seen_keys[key] = row.line
        if number is not None and key != number:
            if number in self.seen_numbers:
                problems.append(f"number {number} is also on line {self.seen_numbers[number]}")
            else:
                self.seen_numbers[number] = row.line
        return problems

    def _plan_row(
        self,
        row: SourceRow,
        label: str,
        number: str | None,
        email: str | None,
        body: dict[str, Any],
        group: Entity | None,
    ) -> Change:
        if self.match == "email" or number is None:
            candidates = self.by_email.get(email.lower(), []) if email else []
        else:
            candidates = [self.by_number[number]] if number in self.by_number else []
        if len(candidates) > 1:
            numbers = ", ".join(str(u.get("Number")) for u in candidates)
            return Change(
                Action.CONFLICT, "Users", label, line=row.line, reason=f"users {numbers} all have this e-mail"
            )
        if candidates:
            return self._compare(row, label, candidates[0], number, body, group)
        if number is not None and number in self.in_use:
            reason = f"number {number} is already in use by {self.in_use[number]}"
            return Change(Action.CONFLICT, "Users", label, line=row.line, reason=reason)
        if self.match == "number" and email and email.lower() in self.by_email:
            owner = self.by_email[email.lower()][0]
            reason = (
                f"e-mail {email} belongs to user {owner.get('Number')} ({display_name(owner)}), "
                "and the PBX does not change a user's number"
            )
            return Change(Action.CONFLICT, "Users", label, line=row.line, id=owner.get("Id"), reason=reason)
        create: dict[str, Any] = {"Number": number} if number else {}
        create.update(body)
        shown: dict[str, Any] = {}
        if group is not None:
            create["Groups"] = [{"GroupId": group["Id"], "Rights": {"RoleName": _DEFAULT_ROLE}}]
            shown["Groups"] = group.get("Name")
        return Change(
            Action.CREATE,
            "Users",
            label,
            line=row.line,
            body=create,
            shown=shown,
            allocate_number=number is None,
        )

    def _compare(
        self,
        row: SourceRow,
        label: str,
        user: Entity,
        number: str | None,
        body: dict[str, Any],
        group: Entity | None,
    ) -> Change:
        user_id = user.get("Id")
        self.named.add(user_id)
        current_number = str(user.get("Number") or "")
        if number is not None and number != current_number:
            reason = (
                f"the PBX does not change a user's number (it is {current_number}, the file says {number}): "
                "delete and re-create the user, or correct the file"
            )
            return Change(Action.CONFLICT, "Users", label, line=row.line, id=user_id, reason=reason)
        patch: dict[str, Any] = {}
        before: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        for name, value in body.items():
            current = user.get(name)
            if not self._same(name, current, value):
                patch[name] = value
                before[name] = current
        if group is not None:
            memberships = [m for m in user.get("Groups") or [] if isinstance(m, Mapping)]
            if group["Id"] not in {m.get("GroupId") for m in memberships}:
                patch["Groups"] = [{"GroupId": group["Id"], "Rights": {"RoleName": _role_of(memberships)}}]
                before["Groups"] = ", ".join(str(m.get("Name") or m.get("GroupId")) for m in memberships)
                shown["Groups"] = group.get("Name")
        label = _label(user.get("EmailAddress") or label, current_number, row.line)
        action = Action.UPDATE if patch else Action.UNCHANGED
        return Change(
            action, "Users", label, line=row.line, id=user_id, body=patch, before=before, shown=shown
        )

    def _same(self, name: str, current: Any, wanted: Any) -> bool:
        if name == "EmailAddress":
            return isinstance(current, str) and current.lower() == str(wanted).lower()
        if name in _EXTERNAL:
            return same_external_number(current, str(wanted), self.region)
        return bool(current == wanted)

    def deletions(self) -> Iterable[Change]:
        for user in self.directory.users:
            if user.get("Id") not in self.named:
                label = _label(user.get("EmailAddress"), user.get("Number"), None)
                yield Change(
                    Action.DELETE, "Users", label, id=user.get("Id"), before={"Name": display_name(user)}
                )


def _role_of(memberships: Sequence[Mapping[str, Any]]) -> str:
    # moving a user to another department keeps the role the user had
    for membership in memberships:
        rights = membership.get("Rights")
        if isinstance(rights, Mapping) and isinstance(rights.get("RoleName"), str):
            return str(rights["RoleName"])
    return _DEFAULT_ROLE


def _label(email: object, number: object, line: int | None) -> str:
    if email and number:
        return f"{email} ({number})"
    if email or number:
        return str(email or number)
    return f"line {line}" if line is not None else "(no key)"
