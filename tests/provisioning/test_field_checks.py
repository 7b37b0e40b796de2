"""The checks on single cells: DN numbers, e-mail addresses, external numbers, column headers."""

from __future__ import annotations

import pytest

from py3cx.provisioning.fields import (
    ColumnMap,
    dn_number,
    email_address,
    external_number,
    number_list,
    same_external_number,
    whole_number,
)
from py3cx.provisioning.users import USER_COLUMNS


def test_dn_numbers_keep_leading_zeros_and_refuse_anything_but_digits() -> None:
    assert dn_number(" 0336 ") == "0336"
    for bad in ("10a", "", "+101", "1 01", "12345678901"):
        with pytest.raises(ValueError, match="not a DN number"):
            dn_number(bad)


def test_email_domain_is_normalised_and_a_bad_address_is_explained() -> None:
    assert email_address(" Ann.Lee@Example.COM ") == "Ann.Lee@example.com"
    assert email_address("o'brien@example.com") == "o'brien@example.com"
    with pytest.raises(ValueError, match="not a valid e-mail address"):
        email_address("ann@")


def test_external_numbers_become_e164() -> None:
    assert external_number("+44 20 7946 0018") == "+442079460018"
    assert external_number("020 7946 0018", "gb") == "+442079460018"


def test_local_number_without_region_says_how_to_write_it() -> None:
    with pytest.raises(ValueError, match=r"\+<country code>"):
        external_number("020 7946 0018")


def test_impossible_number_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be a phone number"):
        external_number("+44 12")


def test_stored_number_written_differently_is_the_same_number() -> None:
    assert same_external_number("+44 (0)20 7946 0018", "+442079460018")
    assert not same_external_number("+442079460019", "+442079460018")
    assert not same_external_number(None, "+442079460018")


def test_number_lists_accept_spaces_commas_semicolons_and_drop_repeats() -> None:
    assert number_list("101, 102;0336  101") == ["101", "102", "0336"]
    with pytest.raises(ValueError, match="'x1'"):
        number_list("101 x1")


def test_whole_numbers_are_bounded() -> None:
    assert whole_number("20", minimum=1) == 20
    with pytest.raises(ValueError, match="out of range"):
        whole_number("0", minimum=1)
    with pytest.raises(ValueError, match="not a whole number"):
        whole_number("2.5")


def test_headers_are_matched_loosely_to_fields() -> None:
    mapping = ColumnMap(USER_COLUMNS).resolve(["E-mail", "First Name", "EXT", "department"])
    assert mapping == {
        "E-mail": "EmailAddress",
        "First Name": "FirstName",
        "EXT": "Number",
        "department": "Department",
    }


def test_unknown_header_is_refused_naming_the_known_columns() -> None:
    with pytest.raises(ValueError, match=r"unknown column 'Emial'.*EmailAddress"):
        ColumnMap(USER_COLUMNS).resolve(["Emial"])


def test_two_headers_for_one_field_are_refused() -> None:
    with pytest.raises(ValueError, match="both mean EmailAddress"):
        ColumnMap(USER_COLUMNS).resolve(["Email", "E-mail address"])
