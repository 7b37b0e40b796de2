"""The lists every PBX ships filled: countries, codecs, time zones, parameters, prompt sets, phone
templates, network interfaces, inbound and outbound rules. Pure: rows as the seeder stores them.

Countries come from the CLDR (Babel: every territory with a country calling code in
phonenumbers' metadata, its international prefix from there too), time zones from the IANA
database (zoneinfo; Windows names from the CLDR's mapping), so both are complete, not samples.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

import phonenumbers
from babel import Locale
from babel.core import get_global

__all__ = [
    "codecs",
    "countries",
    "inbound_rules",
    "network_interfaces",
    "outbound_rules",
    "parameters",
    "phone_templates",
    "prompt_sets",
    "time_zones",
]

_CONTINENTS = {
    "Europe": "Europe",
    "Africa": "Africa",
    "Asia": "Asia",
    "Australia": "Oceania",
    "Pacific": "Oceania",
    "Indian": "Asia",
    "Atlantic": "Europe",
    "Antarctica": "Antarctica",
}


_ZONES_BY_CALLING_CODE = {
    "1": "North America",
    "2": "Africa",
    "3": "Europe",
    "4": "Europe",
    "5": "South America",
    "6": "Oceania",
    "7": "Europe",
    "8": "Asia",
    "9": "Asia",
}


def _continent(region: str, zones: dict[str, str], calling_code: int) -> str:
    zone = next((z for z, r in zones.items() if r == region), "")
    area = zone.split("/", 1)[0]
    if area == "America":
        return "North America" if calling_code == 1 or str(calling_code).startswith("50") else "South America"
    if area in _CONTINENTS:
        return _CONTINENTS[area]
    # no time zone of its own (Ascension, Tristan da Cunha...): the calling code's world zone
    return _ZONES_BY_CALLING_CODE[str(calling_code)[0]]


def countries() -> list[dict[str, Any]]:
    """Every country with a calling code: name, ISO code, calling codes, exit code, continent."""
    names = Locale("en").territories
    zones: dict[str, str] = dict(get_global("zone_territories"))
    rows = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        if region not in names:
            continue
        code = phonenumbers.country_code_for_region(region)
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = (meta.preferred_international_prefix or meta.international_prefix or "00") if meta else "00"
        rows.append(
            {
                "Continent": _continent(region, zones, code),
                "CountryCode": region,
                "CountryCodes": [str(code)],
                "ExitCode": prefix if prefix.isdigit() else "00",
                "Name": names[region],
                "ErpCode": region,
                "VoicemailNo": "999",
                "StunServer": "stun.3cx.com",
            }
        )
    return rows


def codecs() -> list[dict[str, Any]]:
    """The audio codecs a V20 PBX offers, with their RTP payload names."""
    table = [
        ("G.711 u-law", "PCMU"),
        ("G.711 A-law", "PCMA"),
        ("G.722", "G722"),
        ("G.729", "G729"),
        ("GSM", "GSM"),
        ("iLBC", "iLBC"),
        ("Opus", "opus"),
    ]
    return [{"Id": i, "Name": name, "RfcName": rfc} for i, (name, rfc) in enumerate(table, start=1)]


def time_zones(at: datetime) -> list[dict[str, Any]]:
    """Every IANA time zone, named with its UTC offset at ``at`` (``(UTC+01:00) Europe/Berlin``)."""
    windows = {iana: name for name, iana in get_global("windows_zone_mapping").items()}
    rows = []
    for i, iana in enumerate(sorted(zoneinfo.available_timezones()), start=1):
        offset = at.astimezone(zoneinfo.ZoneInfo(iana)).strftime("%z")
        row = {"Id": str(i), "IanaName": iana, "Name": f"(UTC{offset[:3]}:{offset[3:]}) {iana}"}
        if iana in windows:
            row["WindowsName"] = windows[iana]
        rows.append(row)
    return rows


def parameters() -> list[dict[str, Any]]:
    """System parameters (``Parameters``), as an admin sees them under Advanced > Parameters."""
    table = [
        ("MAXCALLSPERTRUNK", "10", "Most simultaneous calls a trunk takes."),
        ("RECORDINGS_MAXDAYS", "90", "Days recordings are kept before clean-up."),
        ("CALLHISTORY_MAXDAYS", "365", "Days of call history kept."),
        ("MOH_DEFAULT", "onhold.wav", "Music on hold for calls without a queue's own."),
        ("SIPPORT", "5060", "SIP port of the PBX."),
        ("RTP_PORT_RANGE", "9000-10999", "UDP ports for audio."),
        ("TUNNELPORT", "5090", "Port of the 3CX tunnel."),
        ("HTTPS_PORT", "5001", "Port of the web console and the APIs."),
        ("E164_ENABLED", "1", "Numbers are normalised to E.164."),
        ("DIALCODE_VOICEMAIL", "999", "Dial code of the voicemail menu."),
    ]
    return [{"Id": i, "Name": n, "Value": v, "Description": d} for i, (n, v, d) in enumerate(table, start=1)]


def prompt_sets() -> list[dict[str, Any]]:
    """The installed prompt sets: English (system) and two more languages."""
    table = [
        ("English (UK)", "en-GB", "EN", "System"),
        ("English (US)", "en-US", "EN", "Custom"),
        ("Deutsch", "de-DE", "DE", "Custom"),
    ]
    return [
        {
            "Id": i,
            "PromptSetName": name,
            "CultureCode": culture,
            "LanguageCode": language,
            "PromptSetType": kind,
            "Folder": f"/var/lib/3cxpbx/Instance1/Data/Http/Prompts/{culture}",
            "Description": f"{name} prompts",
            "Version": "20.0.1",
            "UseAlternateNumberPronunciation": False,
        }
        for i, (name, culture, language, kind) in enumerate(table, start=1)
    ]


def phone_templates() -> list[dict[str, Any]]:
    """Provisioning templates of the phones the emulator's users have."""
    table = [
        ("yealinkT5x.ph.xml", "Yealink", ["T54W", "T57W", "T58W"], "Preferred"),
        ("fanvilX.ph.xml", "Fanvil", ["X6U", "X7C", "X5U"], "Supported"),
        ("snomD7xx.ph.xml", "Snom", ["D785", "D735"], "Supported"),
    ]
    return [
        {
            "Id": template_id,
            "Models": [
                {"Name": model, "UserAgent": f"{vendor} {model}", "AddAllowed": True, "CanBeSBC": False}
                for model in models
            ],
            "TemplateType": kind,
            "AddAllowed": True,
            "AllowSSLProvisioning": True,
            "HotdeskingAllowed": True,
            "IsCustom": False,
            "RpsEnabled": True,
            "XferTypeEnabled": True,
            "MaxQueueCustomRingtones": 5,
            "Codecs": ["PCMA", "PCMU", "G722", "opus"],
            "Languages": ["English", "German", "French"],
            "TimeZones": ["Europe/London", "Europe/Berlin", "America/New_York"],
            "DateFormats": ["DD MM YY", "MM DD YY"],
            "TimeFormats": ["24h", "12h"],
            "URL": f"https://pbx.example.com/provisioning/{template_id}",
        }
        for template_id, vendor, models, kind in table
    ]


def network_interfaces() -> list[dict[str, Any]]:
    """The PBX host's network interfaces."""
    return [{"Id": "eth0"}, {"Id": "lo"}]


def inbound_rules(dids: list[str], queue: tuple[str, str], ivr: tuple[str, str]) -> list[dict[str, Any]]:
    """DID rules: the main number to the IVR (queue out of hours), the others to a queue."""

    def destination(kind: str, dn: tuple[str, str]) -> dict[str, Any]:
        return {"To": kind, "Number": dn[0], "Name": dn[1]}

    rows = []
    for i, did in enumerate(dids, start=1):
        main = i == 1
        rows.append(
            {
                "Id": i,
                "RuleName": "Main number" if main else f"Direct line {did[-4:]}",
                "Condition": "BasedOnDID",
                "Data": did,
                "CallType": "AllCalls",
                "AlterDestinationDuringOutOfOfficeHours": main,
                "AlterDestinationDuringHolidays": main,
                "OfficeHoursDestination": destination("IVR", ivr) if main else destination("Queue", queue),
                "OutOfOfficeHoursDestination": destination("VoiceMail", queue),
                "HolidaysDestination": destination("VoiceMail", queue),
                "Hours": {"Type": "OfficeHours"},
            }
        )
    return rows


def outbound_rules(trunks: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Dial-out rules: emergency numbers first, then national and international calls."""

    def routes(*picks: int) -> list[dict[str, Any]]:
        return [
            {
                "TrunkId": trunks[p][0],
                "TrunkName": trunks[p][1],
                "StripDigits": 0,
                "Prepend": "",
                "Append": "",
            }
            for p in picks
            if p < len(trunks)
        ]

    table = [
        ("Emergency", "", "3", True, routes(0, 1)),
        ("National", "0", "10-11", False, routes(0, 1)),
        ("International", "00", "", False, routes(0)),
    ]
    return [
        {
            "Id": i,
            "Name": name,
            "Prefix": prefix,
            "NumberLengthRanges": lengths,
            "EmergencyRule": emergency,
            "Priority": i,
            "Routes": route_list,
            "DNRanges": [],
            "GroupIds": [],
            "GroupNames": [],
        }
        for i, (name, prefix, lengths, emergency, route_list) in enumerate(table, start=1)
    ]
