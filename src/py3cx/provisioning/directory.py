"""What the PBX holds that a provisioning plan is computed against: users, departments (the
``Groups`` entity set), queues with their agents, and every DN number in use (``Peers``).

:func:`read_directory` is a flow (see :mod:`py3cx.provisioning.driver`) that reads only what a
plan needs, one listing per entity set, so a file of any size costs a handful of requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from py3cx._exceptions import APIStatusError
from py3cx.provisioning.driver import Flow, Read

__all__ = [
    "GROUP_SELECT",
    "QUEUE_SELECT",
    "USER_SELECT",
    "Directory",
    "Entity",
    "display_name",
    "read_directory",
]

Entity = Mapping[str, Any]

USER_SELECT = (
    "Id",
    "Number",
    "FirstName",
    "LastName",
    "DisplayName",
    "EmailAddress",
    "Mobile",
    "OutboundCallerID",
)
GROUP_SELECT = ("Id", "Number", "Name", "Language", "IsDefault")
QUEUE_SELECT = ("Id", "Number", "Name", "PollingStrategy", "RingTimeout")
PEER_SELECT = ("Id", "Number", "Name", "Type")


def display_name(entity: Entity) -> str:
    """A DN's name as a person reads it: DisplayName, else Name, else first and last name."""
    for key in ("DisplayName", "Name"):
        value = entity.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return " ".join(str(entity[k]) for k in ("FirstName", "LastName") if entity.get(k)).strip()


@dataclass(frozen=True)
class Directory:
    """A snapshot of the PBX's directory. Plain data, so plans can be computed (and tested) without I/O.

    Example: ``Directory(users=[{"Id": 1, "Number": "100", "EmailAddress": "a@example.com"}])``.
    """

    users: Sequence[Entity] = ()
    groups: Sequence[Entity] = ()
    queues: Sequence[Entity] = ()
    peers: Sequence[Entity] = field(default=())

    def users_by_number(self) -> dict[str, Entity]:
        return {str(u["Number"]): u for u in self.users if u.get("Number")}

    def users_by_email(self) -> dict[str, list[Entity]]:
        """Users by lower-case e-mail; a list, since a PBX allows two users one address."""
        found: dict[str, list[Entity]] = {}
        for user in self.users:
            email = user.get("EmailAddress")
            if isinstance(email, str) and email:
                found.setdefault(email.lower(), []).append(user)
        return found

    def numbers_in_use(self) -> dict[str, str]:
        """Every DN number the PBX knows, with what holds it ("Extension 101 Ann Lee")."""
        used: dict[str, str] = {}
        for kind, entities in (("Extension", self.users), ("Queue", self.queues)):
            for entity in entities:
                if entity.get("Number"):
                    used[str(entity["Number"])] = f"{kind} {entity['Number']} {display_name(entity)}".strip()
        for peer in self.peers:
            number = peer.get("Number")
            if number and str(number) not in used:
                used[str(number)] = f"{peer.get('Type') or 'DN'} {number} {display_name(peer)}".strip()
        return used

    def find_group(self, reference: str) -> Entity | None:
        """A department by name (any case) or by number (``GRP0001``); None when there is none."""
        wanted = reference.strip().casefold()
        for group in self.groups:
            if str(group.get("Number") or "").casefold() == wanted:
                return group
        for group in self.groups:
            if str(group.get("Name") or "").casefold() == wanted:
                return group
        return None

    def group_names(self) -> list[str]:
        return [str(g.get("Name")) for g in self.groups if g.get("Name")]


def read_directory(*, users: bool = False, groups: bool = False, queues: bool = False) -> Flow[Directory]:
    """Read the parts of the directory a plan needs; DN numbers (``Peers``) are always read.

    ``Peers`` is best effort: when the PBX refuses it, numbers are checked against the users and
    queues read here, and the PBX's own ``ALREADY_IN_USE`` answer catches the rest at apply time.
    Raises APIStatusError when a needed listing is refused.
    Example: ``directory = run(client, read_directory(users=True, groups=True))``.
    """
    user_rows: list[Entity] = []
    group_rows: list[Entity] = []
    queue_rows: list[Entity] = []
    if users:
        user_rows = yield Read("Users", select=USER_SELECT, expand="Groups")
    if groups:
        group_rows = yield Read("Groups", select=GROUP_SELECT)
    if queues:
        queue_rows = yield Read("Queues", select=QUEUE_SELECT, expand="Agents")
    try:
        peer_rows: list[Entity] = yield Read("Peers", select=PEER_SELECT)
    except APIStatusError:
        peer_rows = []
    return Directory(users=user_rows, groups=group_rows, queues=queue_rows, peers=peer_rows)
