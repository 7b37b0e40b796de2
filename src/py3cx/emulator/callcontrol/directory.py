"""The DNs of the emulated PBX, as Call Control sees them, read from the seeded XAPI tables.

- every user is a `Wextension` with one device when registered;
- every queue is a `Wqueue` whose agents come from its `Agents`;
- every API client whose id is a number that is not already a DN is a `Wroutepoint`: on a real
  PBX a Call Control client's id *is* its route point's DN. It monitors the DNs its settings list
  (default: every extension and queue). It has one device, the one the Call Control application
  holds: 3CX's Campaign and IVR examples take `devices[0]` of their route point and call
  `/callcontrol/{rp}/devices/{device_id}/makecall` ("Devices not found" when the list is empty);
- queues have no devices (nothing registers on a queue).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from py3cx.emulator.callcontrol.switchboard import DN, Device

__all__ = ["ROUTE_POINT_USER_AGENT", "device_id_for", "load_directory", "route_point_device_id"]

_USER_AGENTS = ("Yealink SIP-T54W 96.86.0.70", "3CX Phone for Windows 20.0.1", "Fanvil X6U 2.12.16")
# what a route point's device calls itself is not recorded anywhere public: a guess (docs/emulator.md)
ROUTE_POINT_USER_AGENT = "3CX Call Control API"


def device_id_for(number: str) -> str:
    """The SIP URI of an extension's emulated phone. Example: `device_id_for("100")`"""
    return f"sip:{number}@127.0.0.1:5062"


def route_point_device_id(number: str) -> str:
    """The SIP URI of the device a route point's Call Control application holds (a guess of its shape).

    Example: `route_point_device_id("8000")`
    """
    return f"sip:{number}@127.0.0.1:5488"


def _rows(engine: sa.Engine, table: sa.Table | None, columns: Sequence[str]) -> list[Mapping[str, Any]]:
    if table is None:
        return []
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(*[table.c[c] for c in columns if c in table.c])).mappings()
        ]


def load_directory(state: Any, monitored: Mapping[str, list[str]]) -> list[DN]:
    """Every DN Call Control knows: extensions, queues and the route points of numeric API clients.

    Example: `load_directory(emulator_state, {"8000": ["100", "101"]})`
    """
    users = state.tables.get("Users")
    queues = state.tables.get("Queues")
    dns: list[DN] = []
    for i, row in enumerate(
        _rows(state.engine, users.table if users else None, ["Number", "DisplayName", "IsRegistered"])
    ):
        number = str(row["Number"])
        devices = []
        if row.get("IsRegistered", 1):
            devices.append(Device(number, device_id_for(number), _USER_AGENTS[i % len(_USER_AGENTS)]))
        dns.append(DN(number, "Wextension", str(row.get("DisplayName") or number), devices))
    columns = ["Number", "Name", "Agents", "MaxCallersInQueue"]
    for row in _rows(state.engine, queues.table if queues else None, columns):
        agents = json.loads(row["Agents"]) if row.get("Agents") else []
        numbers = [str(a["Number"]) for a in agents if isinstance(a, dict) and a.get("Number")]
        limit = int(row.get("MaxCallersInQueue") or 10)
        dns.append(
            DN(
                str(row["Number"]),
                "Wqueue",
                str(row.get("Name") or row["Number"]),
                agents=numbers,
                max_callers=limit,
            )
        )
    taken = {d.number for d in dns}
    everyone = sorted(taken)
    for client in state.config.clients:
        number = str(client.client_id)
        if number.isdigit() and number not in taken:
            watch = monitored.get(number, everyone)
            device = Device(number, route_point_device_id(number), ROUTE_POINT_USER_AGENT)
            dns.append(DN(number, "Wroutepoint", f"Route point {number}", [device], monitored=list(watch)))
            taken.add(number)
    return dns
