"""The lists a PBX always has filled are filled, completely and coherently (issue 8, item 8)."""

from __future__ import annotations

import zoneinfo

import phonenumbers

from .emulator_harness import Pbx


def test_every_country_with_a_calling_code_is_listed(shared_pbx: Pbx) -> None:
    countries = {c["CountryCode"]: c for c in shared_pbx.value("Countries")}
    assert len(countries) >= 240
    for region in ("GB", "HR", "DE", "US", "AU", "BR", "JP", "ZA"):
        assert countries[region]["CountryCodes"] == [str(phonenumbers.country_code_for_region(region))]
    assert countries["US"]["ExitCode"] == "011" and countries["GB"]["ExitCode"] == "00"
    assert {c["Continent"] for c in countries.values()} <= {
        "Europe",
        "Africa",
        "Asia",
        "Oceania",
        "North America",
        "South America",
        "Antarctica",
    }
    assert (countries["BR"]["Continent"], countries["JP"]["Continent"]) == ("South America", "Asia")


def test_defs_list_the_codecs_and_every_time_zone(shared_pbx: Pbx) -> None:
    codecs = {c["RfcName"] for c in shared_pbx.value("Defs/Codecs")}
    assert {"PCMU", "PCMA", "G722", "opus"} <= codecs
    zones = {z["IanaName"]: z for z in shared_pbx.value("Defs/TimeZones")}
    assert set(zones) == zoneinfo.available_timezones()
    assert zones["Asia/Kolkata"]["Name"] == "(UTC+05:30) Asia/Kolkata"
    assert zones["Europe/Berlin"]["WindowsName"] == "W. Europe Standard Time"


def test_parameters_prompt_sets_templates_and_interfaces_are_there(shared_pbx: Pbx) -> None:
    parameters = {p["Name"]: p for p in shared_pbx.value("Parameters")}
    assert parameters["HTTPS_PORT"]["Value"] == "5001"
    assert all(p["Description"] for p in parameters.values())
    assert [p["CultureCode"] for p in shared_pbx.value("PromptSets")] == ["en-GB", "en-US", "de-DE"]
    assert all(t["Models"] for t in shared_pbx.value("PhoneTemplates"))
    assert [i["Id"] for i in shared_pbx.value("NetworkInterfaces")] == ["eth0", "lo"]


def test_inbound_and_outbound_rules_name_dns_and_trunks_that_exist(shared_pbx: Pbx) -> None:
    queues = {q["Number"] for q in shared_pbx.value("Queues")}
    ivrs = {r["Number"] for r in shared_pbx.value("Receptionists")}
    inbound = shared_pbx.value("InboundRules")
    assert inbound and all(r["Condition"] == "BasedOnDID" and r["Data"].startswith("+") for r in inbound)
    for rule in inbound:
        office = rule["OfficeHoursDestination"]
        assert office["Number"] in (queues if office["To"] == "Queue" else ivrs)
    trunks = {t["Id"]: t for t in shared_pbx.value("Trunks")}
    outbound = shared_pbx.value("OutboundRules")
    assert [r["Name"] for r in outbound] == ["Emergency", "National", "International"]
    assert all(route["TrunkId"] in trunks for rule in outbound for route in rule["Routes"])
