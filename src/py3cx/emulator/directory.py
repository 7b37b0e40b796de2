"""The PBX's directory bookkeeping: DNs across sets, department membership, the ``Peers`` view.

A PBX keeps these in step by itself, and integrations rely on it (BEHAVIOUR.md §5):

- every DN (user, queue, ring group, IVR, trunk, parking, fax, route point) takes its number
  from one space and its id from one sequence, so a number is in use at most once
  (``ALREADY_IN_USE``) and ``Peers`` can list them all with their ``Type``;
- a user's departments are its ``Groups``; the department's ``Members`` list the same
  memberships from the other side. Writing a user's ``Groups`` (create or PATCH) updates the
  ``Members`` of every department, and a user created without ``Groups`` joins the default
  department (``IsDefault``), as in the admin console;
- deleting a DN removes it from every department, queue (``Agents``, ``Managers``) and ring
  group (``Members``) it was in.

Functions here run inside the writer's transaction (``conn``) and under ``state.lock``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import errors
from .errors import XapiError
from .store import EntityTable

if TYPE_CHECKING:
    from .state import EmulatorState

__all__ = [
    "PEER_TYPES",
    "dn_tables",
    "first_free_number",
    "forget_dn",
    "member_rights",
    "next_dn_id",
    "numbered_tables",
    "prepare_user_groups",
    "prepare_user_lists",
    "refresh_peers",
    "refresh_view",
    "sync_group_members",
    "taken_numbers",
]

#: DN sets and the ``Pbx.PeerType`` their members have in ``Peers``
PEER_TYPES = {
    "Users": "Extension",
    "Queues": "Queue",
    "RingGroups": "RingGroup",
    "Receptionists": "IVR",
    "Fax": "Fax",
    "Parkings": "Parking",
    "Trunks": "ExternalLine",
    "CallFlowApps": "RoutePoint",
}
# sets whose Number shares the DN number space without being a callable DN
_ALSO_NUMBERED = ("Groups", "ServicePrincipals")
# where a DN can be listed as a member: set -> JSON columns holding {"Id": ..., "Number": ...} entries
_MEMBER_LISTS = {"Queues": ("Agents", "Managers"), "RingGroups": ("Members",), "Groups": ("Members",)}


def dn_tables(state: EmulatorState) -> list[EntityTable]:
    """The tables of the DN sets this spec has (Users, Queues, RingGroups, Receptionists...).

    Example: ``[t.name for t in dn_tables(state)]``.
    """
    return [state.tables[name] for name in PEER_TYPES if name in state.tables]


def numbered_tables(state: EmulatorState) -> list[EntityTable]:
    """Every table whose ``Number`` comes from the DN number space (DNs, departments, API clients).

    Example: ``numbered_tables(state)[0].name == "Users"``.
    """
    names = [*PEER_TYPES, *_ALSO_NUMBERED]
    return [state.tables[n] for n in names if n in state.tables and "Number" in state.tables[n].props]


def taken_numbers(state: EmulatorState, conn: sa.Connection) -> set[str]:
    """All numbers in use by any DN, department or API client. Example: ``"100" in taken_numbers(state, conn)``."""
    taken: set[str] = set()
    for entity in numbered_tables(state):
        taken.update(n for n in conn.execute(sa.select(entity.table.c.Number)).scalars() if n)
    return taken


# where each DN set's numbers start and end: 3CX's defaults (extensions from 100, queues, ring groups
# and IVRs from 800, trunks from 10000); fax machines are extensions, shared parkings are SP0, SP1...
NUMBER_RANGES: dict[str, tuple[str, int, int]] = {
    "Users": ("", 100, 999),
    "Fax": ("", 100, 999),
    "Queues": ("", 800, 9999),
    "RingGroups": ("", 800, 9999),
    "Receptionists": ("", 800, 9999),
    "CallFlowApps": ("", 800, 9999),
    "Trunks": ("", 10000, 99999),
    "Parkings": ("SP", 0, 99),
}


def first_free_number(state: EmulatorState, conn: sa.Connection, set_name: str) -> str:
    """The lowest number of a DN set's range that no DN, department or API client uses.

    What ``GetFirstAvailable…Number()`` answers and what a create without a ``Number`` gets.
    Raises XapiError(400) when the range is full. Example: ``first_free_number(state, conn, "Users")``.
    """
    prefix, low, high = NUMBER_RANGES[set_name]
    taken = taken_numbers(state, conn)
    for n in range(low, high + 1):
        if f"{prefix}{n}" not in taken:
            return f"{prefix}{n}"
    raise XapiError(400, f"No free number is left between {prefix}{low} and {prefix}{high}.")


def member_rights(role: str = "users") -> dict[str, Any]:
    """A department member's ``Rights`` (and ``GroupRights``): the role's name and what it may do.

    Navigation properties of ``UserGroup``, shown with ``$expand=Groups($expand=Rights,GroupRights)``.
    Example: ``member_rights("managers")["RoleName"]``.
    """
    manager = role != "users"
    return {
        "RoleName": role,
        "AllowIVR": manager,
        "AllowParking": True,
        "AllowToChangePresence": True,
        "AllowToManageCompanyBook": manager,
        "AssignClearOperations": manager,
        "CanBargeIn": manager,
        "CanIntercom": True,
        "CanSeeGroupCalls": manager,
        "CanSeeGroupMembers": True,
        "CanSeeGroupRecordings": manager,
        "PerformOperations": manager,
        "ShowMyCalls": True,
        "ShowMyPresence": True,
        "ShowMyPresenceOutside": False,
    }


def next_dn_id(state: EmulatorState, conn: sa.Connection) -> int:
    """The id the next DN gets: one sequence for all DN sets, never an id a deleted DN had.

    Example: ``next_dn_id(state, conn)``.
    """
    highest = 0
    names = []
    for entity in dn_tables(state):
        if "Id" in entity.table.c:
            names.append(entity.name)
            highest = max(highest, conn.execute(sa.select(sa.func.max(entity.table.c.Id))).scalar() or 0)
    if names:
        # SQLite keeps the highest id each AUTOINCREMENT table ever held (store.build_tables)
        ever = conn.execute(
            sa.text("SELECT MAX(seq) FROM sqlite_sequence WHERE name IN :names").bindparams(
                sa.bindparam("names", expanding=True)
            ),
            {"names": names},
        ).scalar()
        highest = max(highest, ever or 0)
    return highest + 1


def _json_list(raw: Any) -> list[dict[str, Any]]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return [item for item in value or [] if isinstance(item, dict)]


# -- departments --------------------------------------------------------------------------------
def prepare_user_groups(
    state: EmulatorState, conn: sa.Connection, user: dict[str, Any], creating: bool
) -> str | None:
    """The user's ``Groups`` column to store: each entry completed from its department.

    ``user`` holds the user's values after the write (stored forms). A user created without
    departments joins the default one. Returns None when ``Groups`` is not being written.
    Raises XapiError(400) for a department that does not exist.
    Example: ``prepare_user_groups(state, conn, {"Id": 31, "Groups": '[{"GroupId": 2}]'}, creating=True)``.
    """
    raw = user.get("Groups")
    if raw is None and not creating:
        return None
    groups = state.tables.get("Groups")
    if groups is None:
        return raw if isinstance(raw, str) or raw is None else json.dumps(raw)
    rows = {r["Id"]: r for r in conn.execute(sa.select(groups.table)).mappings()}
    wanted = _json_list(raw)
    if not wanted:
        default = next((r for r in rows.values() if r.get("IsDefault")), None)
        wanted = [{"GroupId": default["Id"]}] if default is not None and creating else []
    entries: list[dict[str, Any]] = []
    for item in wanted:
        group = rows.get(item.get("GroupId"))
        if group is None:
            raise XapiError(400, key=errors.NOT_FOUND, target="GroupId")
        if any(e["GroupId"] == group["Id"] for e in entries):
            continue  # one membership per department
        entry = {k: v for k, v in item.items() if v is not None}
        entry.update(
            {
                "Id": user.get("Id"),
                "GroupId": group["Id"],
                "Name": group["Name"],
                "Number": group["Number"],
                "MemberName": _display_name(user),
                "Type": "Extension",
            }
        )
        entry.setdefault("CanDelete", not group.get("IsDefault"))
        entry.setdefault("Rights", member_rights())
        entry.setdefault("GroupRights", member_rights())
        entries.append(entry)
    return json.dumps(entries, ensure_ascii=False)


def sync_group_members(state: EmulatorState, conn: sa.Connection, user: dict[str, Any]) -> None:
    """Make every department's ``Members`` agree with the user's ``Groups`` (stored forms).

    Example: ``sync_group_members(state, conn, user_row)``.
    """
    groups = state.tables.get("Groups")
    if groups is None or "Members" not in groups.table.c:
        return
    member_of = {e.get("GroupId") for e in _json_list(user.get("Groups"))}
    member = {
        "Id": user["Id"],
        "Name": _display_name(user),
        "Number": user.get("Number"),
        "Type": "Extension",
    }
    for row in conn.execute(sa.select(groups.table.c.Id, groups.table.c.Members)).mappings():
        members = [m for m in _json_list(row["Members"]) if not _same_dn(m, user["Id"], "Extension")]
        if row["Id"] in member_of:
            members.append({**member, "GroupId": row["Id"]})
        conn.execute(
            groups.table.update()
            .where(groups.table.c.Id == row["Id"])
            .values(Members=json.dumps(members, ensure_ascii=False), HasMembers=bool(members))
        )


def forget_dn(state: EmulatorState, conn: sa.Connection, set_name: str, ids: Iterable[int]) -> None:
    """Remove deleted DNs from every department, queue and ring group that listed them; a deleted
    department leaves the ``Groups`` of its users. Example: ``forget_dn(state, conn, "Users", [5])``."""
    gone = set(ids)
    if set_name == "Groups":
        _leave_departments(state, conn, gone)
        return
    if set_name not in PEER_TYPES or not gone:
        return
    peer_type = PEER_TYPES[set_name]
    for list_set, columns in _MEMBER_LISTS.items():
        entity = state.tables.get(list_set)
        if entity is None:
            continue
        present = [c for c in columns if c in entity.table.c]
        for row in conn.execute(
            sa.select(entity.table.c.Id, *[entity.table.c[c] for c in present])
        ).mappings():
            changed: dict[str, Any] = {}
            for column in present:
                before = _json_list(row[column])
                # department members carry a Type; queue agents and ring group members are users
                after = [
                    m for m in before if not (m.get("Id") in gone and m.get("Type", "Extension") == peer_type)
                ]
                if len(after) != len(before):
                    changed[column] = json.dumps(after, ensure_ascii=False)
            if changed:
                conn.execute(entity.table.update().where(entity.table.c.Id == row["Id"]).values(**changed))


def _leave_departments(state: EmulatorState, conn: sa.Connection, group_ids: set[int]) -> None:
    users = state.tables.get("Users")
    if users is None or "Groups" not in users.table.c:
        return
    for row in conn.execute(sa.select(users.table.c.Id, users.table.c.Groups)).mappings():
        before = _json_list(row["Groups"])
        after = [g for g in before if g.get("GroupId") not in group_ids]
        if len(after) != len(before):
            conn.execute(
                users.table.update()
                .where(users.table.c.Id == row["Id"])
                .values(Groups=json.dumps(after, ensure_ascii=False))
            )


def _same_dn(member: dict[str, Any], dn_id: Any, peer_type: str) -> bool:
    return bool(member.get("Id") == dn_id and member.get("Type", peer_type) == peer_type)


def _display_name(user: dict[str, Any]) -> str:
    name = user.get("DisplayName") or " ".join(
        str(p) for p in (user.get("FirstName"), user.get("LastName")) if p
    )
    return str(name or user.get("Number") or "")


# -- queue agents and ring group members ---------------------------------------------------------
#: the member lists of DN sets whose entries are users: set -> columns
USER_LISTS = {"Queues": ("Agents", "Managers"), "RingGroups": ("Members",)}


def prepare_user_lists(
    state: EmulatorState, conn: sa.Connection, set_name: str, values: dict[str, Any]
) -> None:
    """Complete the queue agents / ring group members in ``values`` from the users they name.

    An entry names a user by ``Number`` (or ``Id``); ``Id``, ``Name`` and ``Number`` are filled
    from the user, other fields (``SkillGroup``, ``Tags``) kept. Raises XapiError(400,
    ``WARNINGS.XAPI.NOT_FOUND`` on ``Number``) for an entry that names no user.
    Example: ``prepare_user_lists(state, conn, "Queues", {"Agents": '[{"Number": "101"}]'})``.
    """
    columns = [c for c in USER_LISTS.get(set_name, ()) if values.get(c) is not None]
    users = state.tables.get("Users")
    if not columns or users is None:
        return
    rows = [dict(r) for r in conn.execute(sa.select(users.table)).mappings()]
    by_number = {r["Number"]: r for r in rows if r.get("Number")}
    by_id = {r["Id"]: r for r in rows}
    for column in columns:
        entries: list[dict[str, Any]] = []
        for item in _json_list(values[column]):
            user = by_number.get(item.get("Number")) if item.get("Number") else by_id.get(item.get("Id"))
            if user is None:
                raise XapiError(400, key=errors.NOT_FOUND, target="Number")
            if any(e["Number"] == user["Number"] for e in entries):
                continue  # a user is an agent of a queue once
            entries.append(
                {
                    **{k: v for k, v in item.items() if v is not None},
                    "Id": user["Id"],
                    "Name": _display_name(user),
                    "Number": user["Number"],
                }
            )
        values[column] = json.dumps(entries, ensure_ascii=False)


# -- Peers --------------------------------------------------------------------------------------
def _peer_name(set_name: str, row: dict[str, Any]) -> str | None:
    if set_name == "Users":
        return _display_name(row) or None
    if set_name == "Trunks":
        gateway = row.get("Gateway")
        gateway = json.loads(gateway) if isinstance(gateway, str) else gateway
        return str(gateway.get("Name")) if isinstance(gateway, dict) and gateway.get("Name") else None
    name = row.get("Name")
    return str(name) if name else None


def refresh_peers(state: EmulatorState) -> None:
    """Rebuild ``Peers`` (a read-only view of every DN) from the DN sets. Example: ``refresh_peers(state)``."""
    peers = state.tables.get("Peers")
    if peers is None:
        return
    with state.lock, state.engine.begin() as conn:
        rows: list[dict[str, Any]] = []
        for entity in dn_tables(state):
            for found in conn.execute(sa.select(entity.table)).mappings():
                row = dict(found)
                if row.get("Id") is None or not row.get("Number"):
                    continue
                member_of = [
                    {
                        "GroupID": g.get("GroupId"),
                        "Name": g.get("Name"),
                        "Number": g.get("Number"),
                        "IsPrimary": i == 0,
                        "RoleName": (g.get("Rights") or {}).get("RoleName"),
                    }
                    for i, g in enumerate(_json_list(row.get("Groups")))
                    if g.get("GroupId") is not None
                ]
                rows.append(
                    {
                        "Id": row["Id"],
                        "Number": row["Number"],
                        "Name": _peer_name(entity.name, row),
                        "Type": PEER_TYPES[entity.name],
                        "Hidden": False,
                        "MemberOf": json.dumps(member_of, ensure_ascii=False),
                        "Tags": row.get("Tags") if isinstance(row.get("Tags"), str) else "[]",
                    }
                )
        known = set(peers.table.c.keys())
        conn.execute(peers.table.delete())
        unique: dict[Any, dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(row["Id"], {k: v for k, v in row.items() if k in known})
        if unique:
            conn.execute(peers.table.insert(), list(unique.values()))


def refresh_view(state: EmulatorState, set_name: str) -> None:
    """Bring a set that is a view of others (``Peers``) up to date before it is read.

    Example: ``refresh_view(state, "Peers")``.
    """
    if set_name == "Peers":
        refresh_peers(state)
