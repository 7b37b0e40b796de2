"""The rest of the seeded PBX: IVRs, trunks, parkings, a fax, contacts, recordings and system lists.

Seeded after the users, queues, ring groups and calls of ``synthetic.py``, from a random
generator of its own (so the earlier data stays exactly what it was for a seed):

- **Receptionists** (IVRs) ``802`` "Main menu" (1 → Sales queue, 2 → Support queue, 0 →
  Reception ring group) and ``803`` "After hours" (a wake-up style menu to voicemail);
- **Trunks** ``10000`` (the provider trunk the call history uses, online, the DIDs),
  ``10001`` (a backup provider, offline) and ``10002`` (a bridge to a branch PBX);
- **Parkings** ``SP0`` and ``SP1``, **Fax** ``888``;
- **Contacts**: a company phone book;
- **Recordings**: one row per recorded segment of CallHistoryView (its ``SrcRecId`` or
  ``DstRecId``), so that ``Recordings/Pbx.DownloadRecording(recId=N)`` serves the recording a
  call log row points to;
- **Countries**, **Services** and **LastCdrAndChatMessageTimestamp** (lists without keys).

DN ids continue the sequence of the users, queues and ring groups: a PBX numbers all its DNs
from one sequence (``Peers`` lists them together).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from . import system_lists
from .call_history import TRUNK_DN
from .store import EntityTable, datetime_to_storage

__all__ = ["RECEPTIONISTS", "TRUNKS", "seed_pbx"]

#: (number, name) of the seeded IVRs, trunks and parkings
RECEPTIONISTS = [("802", "Main menu"), ("803", "After hours")]
TRUNKS = [(TRUNK_DN, "Provider trunk"), ("10001", "Backup provider"), ("10002", "Branch office bridge")]
PARKINGS = ["SP0", "SP1"]
_DIDS = ["+442079460000", "+442079460001", "+38514800800"]

_COMPANIES = [
    ("Acme Logistics", "Logistics"),
    ("Blue Harbour Ltd", "Accounts"),
    ("Kvarner Travel", "Bookings"),
    ("Northwind Traders", "Purchasing"),
    ("Zagreb Print d.o.o.", "Sales"),
]
_CONTACT_NAMES = [
    ("Hannah", "Becker"),
    ("Tom", "O'Neill"),
    ("Ivana", "Perić"),
    ("Oliver", "Hughes"),
    ("Lea", "Marić"),
    ("George", "Patel"),
    ("Sophie", "Dubois"),
    ("Filip", "Radić"),
    ("Grace", "Kim"),
    ("Mateo", "Rossi"),
]
_SERVICES = [
    ("3CXPhoneSystem", "3CX PhoneSystem", True),
    ("3CXQueueManager", "3CX Queue Manager", True),
    ("3CXIVR", "3CX IVR", True),
    ("3CXCallFlow", "3CX Call Flow Service", True),
    ("3CXMediaServer", "3CX Media Server", True),
    ("3CXSystemService", "3CX System Service", False),
    ("nginx", "Web server", False),
    ("postgresql", "Database server", False),
]


class _PbxSeeder:
    def __init__(self, anchor: datetime, tables: dict[str, EntityTable], conn: Any, seed: int) -> None:
        self.anchor = anchor
        self.tables = tables
        self.conn = conn
        self.rng = random.Random(f"pbx:{seed}")

    def insert(self, set_name: str, rows: list[dict[str, Any]]) -> None:
        entity = self.tables.get(set_name)
        if entity is None or not rows:
            return  # an older spec without this set
        names = list(entity.props)
        columns = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{set_name}" ({columns}) VALUES ({", ".join("?" for _ in names)})'
        self.conn.executemany(sql, [tuple(_column(row.get(n)) for n in names) for row in rows])

    def next_dn_id(self) -> int:
        highest = 0
        for name in ("Users", "Queues", "RingGroups"):
            if name in self.tables:
                row = self.conn.execute(f'SELECT MAX("Id") FROM "{name}"').fetchone()
                highest = max(highest, row[0] or 0)
        return highest + 1

    def seed_dns(self) -> None:
        dn_id = self.next_dn_id()
        ivrs = []
        for number, name in RECEPTIONISTS:
            main = number == "802"
            forwards = (
                [
                    {"Id": 1, "Input": "1", "ForwardType": "Queue", "ForwardDN": "0336", "PeerType": "Queue"},
                    {"Id": 2, "Input": "2", "ForwardType": "Queue", "ForwardDN": "0337", "PeerType": "Queue"},
                    {"Id": 3, "Input": "0", "ForwardType": "RingGroup", "ForwardDN": "800"},
                ]
                if main
                else [{"Id": 4, "Input": "1", "ForwardType": "VoiceMail", "ForwardDN": "100"}]
            )
            ivrs.append(
                {
                    "Id": dn_id,
                    "Number": number,
                    "Name": name,
                    "IVRType": "Default",
                    "IsRegistered": True,
                    "Timeout": 10,
                    "TimeoutForwardType": "RingGroup" if main else "EndCall",
                    "TimeoutForwardDN": "800" if main else None,
                    "TimeoutForwardPeerType": "RingGroup" if main else None,
                    "InvalidKeyForwardDN": number,
                    "PromptFilename": f"{name.lower().replace(' ', '-')}.wav",
                    "TransferEnable": main,
                    "UseMSExchange": False,
                    "Forwards": forwards,
                }
            )
            dn_id += 1
        self.insert("Receptionists", ivrs)

        trunks = []
        for i, (number, name) in enumerate(TRUNKS):
            bridge = i == 2
            trunks.append(
                {
                    "Id": dn_id,
                    "Number": number,
                    "Gateway": {
                        "Name": name,
                        "Host": "branch.example.com" if bridge else f"sip{i + 1}.provider.example",
                        "Port": 5060,
                        "Type": "BridgeMaster" if bridge else "Provider",
                        "Lines": 10,
                    },
                    "AuthID": f"trunk{number}",
                    "Direction": "Both",
                    "DidNumbers": [] if bridge else (_DIDS if i == 0 else _DIDS[2:]),
                    "ExternalNumber": "" if bridge else _DIDS[0],
                    "OutboundCallerID": _DIDS[0],
                    "IsOnline": i != 1,
                    "EnableInboundCalls": True,
                    "EnableOutboundCalls": True,
                    "SimultaneousCalls": 10 if i == 0 else 4,
                    "IPRestriction": "Any",
                    "TransportRestriction": "Any",
                    "RoutingRules": [],
                    "Tags": [],
                }
            )
            dn_id += 1
        self.insert("Trunks", trunks)

        parkings = []
        for number in PARKINGS:
            parkings.append({"Id": dn_id, "Number": number, "TranscriptionMode": "Inherit"})
            dn_id += 1
        self.insert("Parkings", parkings)
        self.insert(
            "Fax",
            [
                {
                    "Id": dn_id,
                    "Number": "888",
                    "AuthID": "888",
                    "FaxServer": True,
                    "OutboundCallerId": _DIDS[1],
                }
            ],
        )

    def seed_contacts(self) -> None:
        rng = self.rng
        contacts = []
        for i, (first, last) in enumerate(_CONTACT_NAMES, start=1):
            company, department = _COMPANIES[i % len(_COMPANIES)]
            domain = company.lower().split()[0].replace(".", "") + ".example"
            contacts.append(
                {
                    "Id": i,
                    "FirstName": first,
                    "LastName": last,
                    "CompanyName": company,
                    "Department": department,
                    "Title": rng.choice(("Manager", "Buyer", "Director", "Assistant")),
                    "Email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
                    "Business": f"+4420794{rng.randrange(10_000, 99_999)}",
                    "Mobile2": f"+3859{rng.randrange(10_000_000, 99_999_999)}" if i % 2 else None,
                    "PhoneNumber": f"+4420794{rng.randrange(10_000, 99_999)}",
                    "ContactType": "3CX",
                    "Tag": "customer" if i % 3 else "supplier",
                }
            )
        self.insert("Contacts", contacts)

    def seed_recordings(self) -> None:
        if "Recordings" not in self.tables or "CallHistoryView" not in self.tables:
            return
        # lazy: reports_calls imports the emulator state, which imports this module
        from .reports_calls import _SUMMARIES

        summaries = " ".join(
            f"WHEN {i} THEN '{text.replace(chr(39), chr(39) * 2)}'" for i, text in enumerate(_SUMMARIES)
        )
        summary = f"CASE rec % {len(_SUMMARIES)} {summaries} END"
        # the recorded side is the extension's; From/To keep the call's direction
        expressions = {
            "Id": "rec",
            "StartTime": '"SegmentStartTime"',
            "EndTime": '"SegmentEndTime"',
            "FromCallerNumber": '"SrcCallerNumber"',
            "FromDisplayName": '"SrcDisplayName"',
            "FromDn": '"SrcDn"',
            "FromDnType": '"SrcDnType"',
            "FromIdParticipant": '"SrcParticipantId"',
            "ToCallerNumber": '"DstCallerNumber"',
            "ToDisplayName": '"DstDisplayName"',
            "ToDn": '"DstDn"',
            "ToDnType": '"DstDnType"',
            "ToIdParticipant": '"DstParticipantId"',
            "CallType": """CASE WHEN "SrcExternal" THEN 'InboundExternal'
                WHEN "DstExternal" THEN 'OutboundExternal' ELSE 'Local' END""",
            "IsArchived": "0",
            "CanBeTranscribed": "1",
            "IsTranscribed": "1",
            "SentimentScore": "rec % 5 + 1",
            "Summary": summary,
            "Transcription": f"'Agent: Good morning, how can I help? Caller: ' || {summary}",
            "RecordingUrl": "'/xapi/v1/Recordings/Pbx.DownloadRecording(recId=' || rec || ')'",
            "RefParticipantId": """CASE WHEN "SrcRecId" IS NOT NULL
                THEN "SrcParticipantId" ELSE "DstParticipantId" END""",
        }
        # an older spec has fewer columns: fill the ones this one has
        present = {k: v for k, v in expressions.items() if k in self.tables["Recordings"].props}
        columns = ", ".join(f'"{name}"' for name in present)
        self.conn.execute(
            f"""
            INSERT INTO "Recordings" ({columns})
            SELECT {", ".join(present.values())}
            FROM (SELECT COALESCE("SrcRecId", "DstRecId") AS rec, * FROM "CallHistoryView"
                  WHERE "SrcRecId" IS NOT NULL OR "DstRecId" IS NOT NULL)
            """
        )

    def seed_system_lists(self) -> None:
        self.insert("Countries", system_lists.countries())
        self.insert("Parameters", system_lists.parameters())
        self.insert("PromptSets", system_lists.prompt_sets())
        self.insert("PhoneTemplates", system_lists.phone_templates())
        self.insert("NetworkInterfaces", system_lists.network_interfaces())
        queue = self.conn.execute('SELECT "Number", "Name" FROM "Queues" ORDER BY "Id" LIMIT 1').fetchone()
        self.insert("InboundRules", system_lists.inbound_rules(_DIDS, tuple(queue), RECEPTIONISTS[0]))
        trunks = self.conn.execute('SELECT "Id", "Number" FROM "Trunks" ORDER BY "Id"').fetchall()
        names = dict(TRUNKS)
        self.insert(
            "OutboundRules", system_lists.outbound_rules([(t[0], names.get(t[1], t[1])) for t in trunks])
        )
        self.insert("TrunkTemplates", _trunk_templates())
        sample_time = datetime_to_storage(self.anchor)
        self.insert(
            "Services",
            [
                {
                    "Name": name,
                    "DisplayName": display,
                    "Status": "Running",
                    "RestartEnabled": True,
                    "StartStopEnabled": stoppable,
                    "MemoryUsed": self.rng.randrange(20, 400) * 1_048_576,
                    "ThreadCount": self.rng.randrange(4, 60),
                    "HandleCount": self.rng.randrange(50, 900),
                    "TotalProcessorTime": self.rng.randrange(1_000, 900_000),
                    "SampleTime": sample_time,
                }
                for name, display, stoppable in _SERVICES
            ],
        )
        last_call = None
        if "CallHistoryView" in self.tables:
            last_call = self.conn.execute('SELECT MAX("SegmentStartTime") FROM "CallHistoryView"').fetchone()[
                0
            ]
        self.insert(
            "LastCdrAndChatMessageTimestamp",
            [
                {
                    "LastCdrStartedAt": last_call,
                    "LastChatMessageTimeSent": datetime_to_storage(self.anchor - timedelta(hours=2)),
                }
            ],
        )


def _trunk_templates() -> list[dict[str, Any]]:
    """The seeded ``TrunkTemplates``: generic templates as every PBX has them, and a few providers.

    Example: ``[t["Id"] for t in trunk_templates()]``.
    """
    rows = [
        ("GenericSIPTrunk.pv.xml", "Generic SIP Trunk", "Supported", [], "Any SIP provider that registers"),
        (
            "GenericSIPTrunkIPBased.pv.xml",
            "Generic SIP Trunk (IP Based)",
            "Supported",
            [],
            "IP-authenticated",
        ),
        ("GenericVoIPGateway.pv.xml", "Generic VoIP Gateway", "Supported", [], "A VoIP gateway on the LAN"),
        ("ExampleTelecomUK.pv.xml", "Example Telecom (UK)", "Preferred", ["GB"], "A preferred provider"),
        ("ExampleVoiceDE.pv.xml", "Example Voice (DE)", "Supported", ["DE", "AT"], "A supported provider"),
        (
            "ExampleCarrierUS.pv.xml",
            "Example Carrier (US)",
            "ThirdParty",
            ["US", "CA"],
            "A third-party provider",
        ),
    ]
    return [
        {
            "Id": template_id,
            "Name": name,
            "TemplateType": kind,
            "Countries": countries,
            "Description": description,
            "DefaultProxyPort": 5060,
            "DefaultRegistrarPort": 5060,
            "AddAllowed": True,
            "IsCustom": False,
            "Editors": ["Voip"],
            "Tags": [],
            "Url": "",
            "Content": "",
        }
        for template_id, name, kind, countries, description in rows
    ]


def _column(value: Any) -> Any:
    # complex values and collections are stored as JSON text, booleans as 0/1 (see store.py)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def seed_pbx(anchor: datetime, tables: dict[str, EntityTable], conn: Any, seed: int) -> None:
    """Seed the DNs, contacts, recordings and system lists described above through a raw cursor.

    Example: ``seed_pbx(cfg.anchor, tables, cursor, cfg.seed)``.
    """
    seeder = _PbxSeeder(anchor, tables, conn, seed)
    seeder.seed_dns()
    seeder.seed_contacts()
    seeder.seed_recordings()
    seeder.seed_system_lists()
