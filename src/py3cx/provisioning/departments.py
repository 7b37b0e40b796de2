"""Departments from a file. The admin console's departments are the ``Groups`` entity set.

A row is matched to a department by name, in any case; a row whose name differs only in case
renames it. The default department (``IsDefault``, ``GRP0000``) is never deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from py3cx._exceptions import ConfigError
from py3cx.odata import F
from py3cx.provisioning.directory import GROUP_SELECT, Directory, Entity, read_directory
from py3cx.provisioning.driver import Flow, Read
from py3cx.provisioning.fields import Column, cells_by_field, header_map
from py3cx.provisioning.plan import Action, Change, Plan
from py3cx.provisioning.source import SourceRow

__all__ = ["DEPARTMENT_COLUMNS", "compute_department_plan", "department_plan_flow", "find_department_flow"]

DEPARTMENT_COLUMNS = (
    Column("Name", ("department", "department name", "group", "group name")),
    Column("Language", ("lang",)),
)


def department_plan_flow(rows: Sequence[SourceRow], *, delete_missing: bool = False) -> Flow[Plan]:
    """Read the departments, then compute the plan (see :func:`compute_department_plan`)."""
    directory = yield from read_directory(groups=True)
    return compute_department_plan(rows, directory, delete_missing=delete_missing)


def find_department_flow(name: str) -> Flow[Entity]:
    """Find one department by name (any case). Raises ConfigError when there is none."""
    wanted = name.strip()
    found: list[Entity] = yield Read(
        "Groups", filter=F("Name").lower() == wanted.lower(), select=GROUP_SELECT
    )
    if not found:
        raise ConfigError(f"no department {wanted!r}", hint="`3cx departments list` shows the departments")
    return found[0]


def is_default_group(group: Any) -> bool:
    """True for the PBX's default department, which cannot be deleted."""
    return bool(group.get("IsDefault")) or group.get("Number") == "GRP0000"


def compute_department_plan(
    rows: Sequence[SourceRow], directory: Directory, *, delete_missing: bool = False
) -> Plan:
    """Compare the rows with the PBX's departments and say, per row, what applying would do.

    Raises ConfigError for an unknown column, a file without a Name column, or ``delete_missing``
    with no valid row.
    Example: ``compute_department_plan([SourceRow(2, {"Name": "Sales"})], directory)``.
    """
    mapping = header_map(rows, DEPARTMENT_COLUMNS)
    if rows and "Name" not in mapping.values():
        raise ConfigError("the file has no Name column", hint="name each department in a Name column")
    by_name = {str(g.get("Name") or "").casefold(): g for g in directory.groups}
    seen: dict[str, int | None] = {}
    named: set[Any] = set()
    changes: list[Change] = []
    for row in rows:
        cells = cells_by_field(row.values, mapping)
        name = cells.get("Name", "")
        key = name.casefold()
        label = name or f"line {row.line}"
        if not name:
            changes.append(
                Change(Action.INVALID, "Groups", label, line=row.line, reason="no department name")
            )
            continue
        group = by_name.get(key)
        if group is not None:
            named.add(group.get("Id"))
        if key in seen:
            reason = f"same department as line {seen[key]}"
            changes.append(Change(Action.INVALID, "Groups", label, line=row.line, reason=reason))
            continue
        seen[key] = row.line
        body: dict[str, Any] = {"Name": name}
        if "Language" in cells:
            body["Language"] = cells["Language"]
        if group is None:
            changes.append(Change(Action.CREATE, "Groups", label, line=row.line, body=body))
            continue
        patch = {k: v for k, v in body.items() if group.get(k) != v}
        before = {k: group.get(k) for k in patch}
        action = Action.UPDATE if patch else Action.UNCHANGED
        changes.append(
            Change(action, "Groups", label, line=row.line, id=group.get("Id"), body=patch, before=before)
        )
    if delete_missing:
        if all(c.skipped for c in changes):
            raise ConfigError(
                "refusing to delete departments: the file has no valid row",
                hint="fix the file first; --delete-missing deletes every department the file does not list",
            )
        for group in directory.groups:
            if group.get("Id") not in named and not is_default_group(group):
                changes.append(Change(Action.DELETE, "Groups", str(group.get("Name")), id=group.get("Id")))
    return Plan("Groups", tuple(changes))
