"""Which form of an operation to send to which build: the pure rules of ``py3cx.xapi._drift``."""

from __future__ import annotations

import pytest

from py3cx.xapi import PbxProfile, UnsupportedByPbxError
from py3cx.xapi._drift import as_legacy_argument, check_body, choose_form, parse_build, served_paths

from .conftest import spec_file


def build(version: str) -> PbxProfile:
    return PbxProfile(parse_build(version), version, None, "a test")


def served(*paths: str) -> PbxProfile:
    return PbxProfile(None, None, frozenset(paths), "a served spec")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20.0.4.376", (20, 0, 4, 376)),
        ("20.0.10", (20, 0, 10)),
        ("Version 20.0.10.817 (build)", (20, 0, 10, 817)),
        ("", None),
        (None, None),
        ("twenty", None),
    ],
)
def test_build_numbers_are_read_from_version_text(text: object, expected: object) -> None:
    assert parse_build(text) == expected


def test_a_20_0_10_pbx_gets_the_alternate_key() -> None:
    assert choose_form("GetUserByNumber", build("20.0.10.817")) == "current"


def test_a_20_0_4_pbx_gets_the_get_by_number_function() -> None:
    assert choose_form("GetUserByNumber", build("20.0.4.376")) == "legacy"
    assert choose_form("GetCallQualityReport", build("20.0.4.376")) == "legacy"


def test_a_newer_build_than_the_newest_spec_gets_the_newest_form() -> None:
    assert choose_form("GetUserByNumber", build("20.1.2.100")) == "current"


def test_an_operation_the_old_build_lacks_is_unsupported_there() -> None:
    assert choose_form("ListHoliday", build("20.0.4.376")) == "unsupported"
    assert choose_form("ListHoliday", build("20.0.10.817")) == "current"


def test_operations_without_drift_are_always_sent_as_they_are() -> None:
    assert choose_form("ListUser", build("20.0.4.376")) == "current"
    assert choose_form("ListUser", PbxProfile(None, None, None, "nothing")) == "current"


def test_an_unknown_build_without_a_served_spec_gets_the_newest_form() -> None:
    assert choose_form("GetUserByNumber", PbxProfile(None, None, None, "nothing")) == "current"


def test_a_build_between_the_two_specs_is_decided_by_the_paths_it_serves() -> None:
    between_old = PbxProfile(
        (20, 0, 7), "20.0.7", frozenset({"/Users/Pbx.GetByNumber(number={number})"}), "x"
    )
    between_new = PbxProfile((20, 0, 8), "20.0.8", frozenset({"/Users(Number={Number})", "/Holidays"}), "x")
    assert choose_form("GetUserByNumber", between_old) == "legacy"
    assert choose_form("GetUserByNumber", between_new) == "current"
    assert choose_form("ListHoliday", between_new) == "current"
    assert choose_form("ListHoliday", between_old) == "unsupported"


def test_the_paths_of_a_served_spec_are_read_without_parsing_the_yaml() -> None:
    paths = served_paths(spec_file("20.0.4").read_text(encoding="utf-8"))
    assert len(paths) == 414
    assert "/Users/Pbx.GetByNumber(number={number})" in paths
    assert "/Users(Number={Number})" not in paths
    assert choose_form("GetUserByNumber", served(*paths)) == "legacy"


def test_the_newest_spec_served_by_a_pbx_gives_the_newest_forms() -> None:
    paths = served_paths(spec_file("20.0.10").read_text(encoding="utf-8"))
    assert len(paths) == 480
    assert choose_form("GetUserByNumber", served(*paths)) == "current"
    assert choose_form("ListHoliday", served(*paths)) == "current"


def test_an_old_build_refuses_a_body_field_it_does_not_know_and_names_it() -> None:
    with pytest.raises(UnsupportedByPbxError, match="testCall") as caught:
        check_body("MakeCall", {"destination": "100", "testCall": True}, "legacy", build("20.0.4.376"))
    assert caught.value.hint is not None and "destination" in caught.value.hint


def test_an_old_build_takes_the_fields_it_knows() -> None:
    check_body("MakeCall", {"destination": "100", "dn": "200"}, "legacy", build("20.0.4.376"))
    check_body("MakeCall", {"destination": "100", "testCall": True}, "current", build("20.0.10.817"))


def test_a_new_argument_given_to_an_old_build_must_fit_the_old_type() -> None:
    assert as_legacy_argument("42", "Edm.Int32", "cdrId", "call_id") == "42"
    with pytest.raises(UnsupportedByPbxError, match="call_id") as caught:
        as_legacy_argument("0b7e-cdr", "Edm.Int32", "cdrId", "call_id")
    assert caught.value.hint is not None
