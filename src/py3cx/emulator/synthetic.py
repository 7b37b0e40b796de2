"""Synthetic, coherent PBX data, deterministic for a given seed and anchor (``config.now``).

Same seed + same anchor → byte-identical rows. Everything is drawn from one
``random.Random(seed)`` in a fixed order.

What is made:

- **Users** with 3-digit extensions (100...), first/last names (one is ``O'Brien``, one
  ``Müller``), e-mail addresses, a department each (**Groups**, ``GRP0000`` is the default);
- **Queues** with leading-zero numbers (``0336``, ``0337``, ``0338``) and their agents;
  **RingGroups** ``800`` and ``801``;
- ``config.calls`` calls over the 90 days before the anchor, kept in the internal table
  ``_calls`` (one row per call) from which the **CallHistoryView** segments are derived;
- a handful of **ActiveCalls**, some **EventLogs**, and the **Defs** / **SystemStatus** /
  **LicenseStatus** singletons;
- IVRs, trunks, parkings, a fax, contacts, recordings and system lists: ``synthetic_pbx.py``.

The calls, the ``_calls`` table (documented there) and the CallHistoryView segments come from
``call_history.py``; the constants below are re-exported from it.

"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import system_lists
from .call_history import (
    ACTION_CALLER_HUNG_UP,
    ACTION_ENDED,
    ACTION_PASSED_ON,
    DN_EXTENSION,
    DN_EXTERNAL,
    DN_QUEUE,
    DN_RING_GROUP,
    HISTORY_DAYS,
    SEGMENT_RING,
    SEGMENT_TALK,
    TRUNK_DN,
    CallGenerator,
    calls_table,
    external_number,
)
from .config import EmulatorConfig
from .directory import member_rights
from .store import EntityTable, datetime_to_storage
from .synthetic_pbx import seed_pbx

__all__ = [
    "ACTION_CALLER_HUNG_UP",
    "ACTION_ENDED",
    "ACTION_PASSED_ON",
    "DN_EXTENSION",
    "DN_EXTERNAL",
    "DN_QUEUE",
    "DN_RING_GROUP",
    "HISTORY_DAYS",
    "SEGMENT_RING",
    "SEGMENT_TALK",
    "TRUNK_DN",
    "Person",
    "calls_table",
    "iter_people",
    "make_people",
    "seed_all",
    "singletons",
]


_FIRST = [
    "Ana",
    "Ivan",
    "Marko",
    "Sarah",
    "James",
    "Petra",
    "Luka",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Mia",
    "Lucas",
    "Sofia",
    "Ethan",
    "Nina",
    "David",
    "Laura",
    "Tomás",
    "Zoë",
    "Ahmed",
    "Chloé",
    "Jonas",
    "Maja",
]
_LAST = [
    "Horvat",
    "Kovač",
    "Smith",
    "Jones",
    "Novak",
    "Babić",
    "Taylor",
    "Brown",
    "Wilson",
    "Jurić",
    "Evans",
    "Walker",
    "Knežević",
    "Wright",
    "Green",
    "Hall",
    "Lewis",
    "King",
    "Scott",
    "Young",
]
_DEPARTMENTS = ["Sales", "Support", "Accounts"]
_QUEUES = [
    ("0336", "Sales Queue", "Sales"),
    ("0337", "Support Queue", "Support"),
    ("0338", "Billing", "Accounts"),
]
_RING_GROUPS = [("800", "Reception"), ("801", "Warehouse")]
_EVENT_SOURCES = [
    ("Info", 4096, "System", "Service 3CX PhoneSystem started"),
    ("Warning", 12296, "Trunk", "Trunk 10000 registration refreshed late"),
    ("Error", 12288, "Trunk", "Trunk 10000 registration failed: 408 Request Timeout"),
    ("Info", 4101, "Backup", "Backup completed successfully"),
    ("Warning", 8197, "Security", "Blocked IP after failed authentication attempts"),
]


@dataclass(frozen=True)
class Person:
    """A user with an extension, as the generator needs them."""

    id: int
    number: str
    first: str
    last: str
    email: str
    department: str

    @property
    def display_name(self) -> str:
        return f"{self.first} {self.last}"


def _email(first: str, last: str) -> str:
    plain = f"{first}.{last}".lower()
    for src, dst in (
        ("'", ""),
        ("ü", "ue"),
        ("ö", "oe"),
        ("č", "c"),
        ("ć", "c"),
        ("ž", "z"),
        ("š", "s"),
        ("đ", "d"),
        ("á", "a"),
        ("é", "e"),
        ("ë", "e"),
    ):
        plain = plain.replace(src, dst)
    return f"{plain}@example.com"


def make_people(rng: random.Random, count: int = 30) -> list[Person]:
    """The users: 3-digit extensions from 100, one ``Sean O'Brien`` and one ``Jürgen Müller``."""
    people: list[Person] = []
    names: set[tuple[str, str]] = set()
    fixed = {3: ("Sean", "O'Brien"), 7: ("Jürgen", "Müller")}
    for i in range(count):
        if i in fixed:
            first, last = fixed[i]
        else:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            while (first, last) in names:
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
        names.add((first, last))
        people.append(Person(i + 1, str(100 + i), first, last, _email(first, last), _DEPARTMENTS[i % 3]))
    return people


class _Seeder:
    def __init__(self, config: EmulatorConfig, tables: dict[str, EntityTable], conn: Any) -> None:
        self.config = config
        self.tables = tables
        self.conn = conn  # a raw DB-API connection: executemany is what makes a million rows fast
        self.rng = random.Random(config.seed)
        self.anchor: datetime = config.anchor
        self.people = make_people(self.rng)
        self.by_department: dict[str, list[Person]] = {}
        for person in self.people:
            self.by_department.setdefault(person.department, []).append(person)
        self.queue_agents: dict[str, list[Person]] = {}

    def _insert(self, set_name: str, rows: list[dict[str, Any]]) -> None:
        entity = self.tables.get(set_name)
        if entity is None or not rows:
            return
        names = list(entity.props)
        columns = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{set_name}" ({columns}) VALUES ({", ".join("?" for _ in names)})'
        self.conn.executemany(sql, [tuple(row.get(n) for n in names) for row in rows])

    def seed_directory(self) -> None:
        groups: list[dict[str, Any]] = [
            {
                "Id": 1,
                "Number": "GRP0000",
                "Name": "DEFAULT",
                "IsDefault": 1,
                "HasMembers": 1,
                "Language": "EN",
            },
        ]
        for i, dept in enumerate(_DEPARTMENTS, start=2):
            groups.append(
                {
                    "Id": i,
                    "Number": f"GRP{i - 1:04d}",
                    "Name": dept,
                    "IsDefault": 0,
                    "HasMembers": 1,
                    "Language": "EN",
                    "TimeZoneId": "51",
                }
            )
        group_ids = {g["Name"]: g["Id"] for g in groups}
        for g in groups:
            members = [
                {
                    "Id": p.id,
                    "GroupId": g["Id"],
                    "Name": p.display_name,
                    "Number": p.number,
                    "Type": "Extension",
                }
                for p in self.people
                if g["Name"] in ("DEFAULT", p.department)
            ]
            g["Members"] = json.dumps(members, ensure_ascii=False)
        self._insert("Groups", groups)

        users = []
        for p in self.people:
            has_mobile = self.rng.random() < 0.6
            users.append(
                {
                    "Id": p.id,
                    "Number": p.number,
                    "FirstName": p.first,
                    "LastName": p.last,
                    "DisplayName": p.display_name,
                    "EmailAddress": p.email,
                    "Mobile": f"+3859{self.rng.randrange(10_000_000):07d}" if has_mobile else None,
                    "Enabled": 1,
                    "Require2FA": 0,
                    "Language": "EN",
                    "Internal": 0,
                    "IsRegistered": 1 if self.rng.random() < 0.8 else 0,
                    "QueueStatus": "LoggedIn" if self.rng.random() < 0.7 else "LoggedOut",
                    "OutboundCallerID": "+442079460000",
                    "PrimaryGroupId": group_ids[p.department],
                    "AuthID": p.number,
                    "SIPID": p.number,
                    "Tags": "[]",
                    "VMEnabled": 1,
                    "Groups": json.dumps(
                        [
                            {
                                "Id": p.id,
                                "GroupId": group_ids[p.department],
                                "Name": p.department,
                                "Number": f"GRP{group_ids[p.department] - 1:04d}",
                                "MemberName": p.display_name,
                                "Type": "Extension",
                                "CanDelete": False,
                                "Rights": member_rights(),
                                "GroupRights": member_rights(),
                            },
                        ],
                        ensure_ascii=False,
                    ),
                    "ForwardingProfiles": json.dumps(
                        [
                            {"Id": p.id * 10 + k, "Name": name}
                            for k, name in enumerate(("Available", "Away", "Out of office"))
                        ]
                    ),
                }
            )
        self._insert("Users", users)

        queues = []
        next_id = len(self.people) + 1
        for number, name, dept in _QUEUES:
            agents = self.by_department[dept][:5]
            self.queue_agents[number] = agents
            queues.append(
                {
                    "Id": next_id,
                    "Number": number,
                    "Name": name,
                    "PollingStrategy": "Hunt",
                    "RingTimeout": 20,
                    "MasterTimeout": 300,
                    "WrapUpTime": 0,
                    "SLATime": 30,
                    "MaxCallersInQueue": 10,
                    "PriorityQueue": 0,
                    "IsRegistered": 1,
                    "ComfortPrompts": "[]",
                    "NotifyCodes": "[]",
                    "MaxWaitTimeSkillGroupValues": "[]",
                    "Agents": json.dumps(
                        [
                            {
                                "Id": a.id,
                                "Name": a.display_name,
                                "Number": a.number,
                                "SkillGroup": "1",
                                "Tags": [],
                            }
                            for a in agents
                        ],
                        ensure_ascii=False,
                    ),
                    "Managers": json.dumps(
                        [
                            {
                                "Id": agents[0].id,
                                "Name": agents[0].display_name,
                                "Number": agents[0].number,
                                "Tags": [],
                            }
                        ],
                        ensure_ascii=False,
                    ),
                }
            )
            next_id += 1
        self._insert("Queues", queues)

        ring_groups = []
        for number, name in _RING_GROUPS:
            ring = self.people[:4] if number == "800" else self.people[10:13]
            ring_groups.append(
                {
                    "Id": next_id,
                    "Number": number,
                    "Name": name,
                    "RingStrategy": "RingAll",
                    "RingTime": 20,
                    "IsRegistered": 1,
                    "Members": json.dumps(
                        [{"Id": m.id, "Name": m.display_name, "Number": m.number, "Tags": []} for m in ring],
                        ensure_ascii=False,
                    ),
                }
            )
            next_id += 1
        self._insert("RingGroups", ring_groups)

    # -- calls ----------------------------------------------------------------------------------
    # -- live state -----------------------------------------------------------------------------
    def seed_live(self) -> None:
        rng = self.rng
        active = []
        statuses = ["Talking", "Talking", "Talking", "Ringing", "Routing"]
        for i, status in enumerate(statuses, start=1):
            person = self.people[(i * 5) % len(self.people)]
            established = self.anchor - timedelta(seconds=rng.randrange(20, 900))
            external = external_number(rng)
            inbound = i % 2 == 1
            active.append(
                {
                    "Id": i,
                    "Caller": f"{external}" if inbound else f"{person.number} {person.display_name}",
                    "Callee": f"{person.number} {person.display_name}" if inbound else external,
                    "Status": status,
                    "EstablishedAt": datetime_to_storage(established),
                    "LastChangeStatus": datetime_to_storage(
                        established + timedelta(seconds=rng.randrange(1, 15))
                    ),
                    "ServerNow": datetime_to_storage(self.anchor),
                }
            )
        self._insert("ActiveCalls", active)

        logs = []
        for i in range(1, 61):
            level, event_id, group, message = _EVENT_SOURCES[rng.randrange(len(_EVENT_SOURCES))]
            when = self.anchor - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
            logs.append(
                {
                    "Id": i,
                    "EventId": event_id,
                    "Type": level,
                    "Group": group,
                    "GroupName": group,
                    "Message": message,
                    "Params": json.dumps([TRUNK_DN] if group == "Trunk" else []),
                    "Source": "3CXPhoneSystem",
                    "TimeGenerated": datetime_to_storage(when),
                }
            )
        self._insert("EventLogs", logs)


def singletons(config: EmulatorConfig, users: int, active_calls: int) -> dict[str, dict[str, Any]]:
    """Wire bodies of the seeded singletons (``Defs``, ``SystemStatus``) and of the system parameters."""
    anchor = config.anchor
    iso = anchor.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Defs": {"Id": 0, "Codecs": system_lists.codecs(), "TimeZones": system_lists.time_zones(anchor)},
        "SystemStatus": {
            "Id": 0,
            "Activated": True,
            "AutoUpdateEnabled": False,
            "BackupScheduled": True,
            "CallsActive": active_calls,
            "ExtensionsRegistered": users,
            "ExtensionsTotal": users + 8,
            "UserExtensions": users,
            "MaxUserExtensions": 500,
            "FQDN": "pbx.example.com",
            "Ip": "127.0.0.1",
            "IpV4": "127.0.0.1",
            "LicenseActive": True,
            "LicenseKey": "XXXX-XXXX-XXXX-XXXX",
            "MaxSimCalls": 16,
            "OS": "Linux",
            "ProductCode": "3CXPSENT",
            "ResellerName": "py3cx emulator",
            "TrunksRegistered": 2,
            "TrunksTotal": 3,
            "Version": config.build,
            "Support": True,
            "LastCheckForUpdates": iso,
            "LastBackupDateTime": iso,
            "DiskUsage": 23,
            "TotalDiskSpace": 64_000_000_000,
            "FreeDiskSpace": 49_000_000_000,
            "HasNotRunningServices": False,
        },
        "LicenseStatus": {
            "Activated": True,
            "LicenseActive": True,
            "LicenseKey": "XXXX-XXXX-XXXX-XXXX",
            "ProductCode": "3CXPSENT",
            "Version": config.build,
            "MaxSimCalls": 16,
            "SimMeetingParticipants": 25,
            "Support": True,
            "ExpirationDate": (anchor + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MaintenanceExpiresAt": (anchor + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "CompanyName": "Example Ltd",
            "ContactName": "Jane Admin",
            "EMail": "it@example.com",
            "AdminEMail": "admin@pbx.example.com",
            "Telephone": "+442079460000",
            "CountryCode": "GB",
            "CountryName": "United Kingdom",
            "ResellerName": "py3cx emulator",
            "ActiveModules": ["Enterprise", "CallCenter", "AI"],
        },
        "_SystemParameters": {
            "Version": config.build,
            "FQDN": "pbx.example.com",
            "PbxExternalHost": "pbx.example.com",
            "HttpsPort": 5001,
            "HttpPort": 5000,
            "SipPort": 5060,
            "SipsPort": 5061,
            "TunnnelPort": 5090,
            "GlobalLanguage": "EN",
            "IsHosted": False,
            "IsMulticompanyMode": False,
            "IsChatLogEnabled": True,
            "ProcessorCount": 4,
            "MaxDIDPerTrunk": 100,
            "License": {
                "IsEnterprise": True,
                "MaxSimCalls": 16,
                "ProductCode": "3CXPSENT",
                "CountryCode": "GB",
            },
        },
    }


def seed_all(config: EmulatorConfig, tables: dict[str, EntityTable], conn: Any) -> dict[str, int]:
    """Fill the tables through a raw DB-API cursor; returns row counts (``{"calls": N, ...}``).

    Example: ``seed_all(cfg, tables, engine.raw_connection().cursor())``.
    """
    seeder = _Seeder(config, tables, conn)
    seeder.seed_directory()
    CallGenerator(
        config,
        tables,
        conn,
        seeder.rng,
        seeder.people,
        seeder.queue_agents,
        [(number, name) for number, name, _ in _QUEUES],
        (_FIRST, _LAST),
    ).seed_calls()
    seeder.seed_live()
    seed_pbx(config.anchor, tables, conn, config.seed)
    return {"users": len(seeder.people), "calls": config.calls}


def iter_people(config: EmulatorConfig) -> Iterator[Person]:
    """The seeded users, without a database (the same draw as :func:`seed_all`)."""
    yield from make_people(random.Random(config.seed))
