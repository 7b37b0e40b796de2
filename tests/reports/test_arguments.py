"""Report arguments: Python values in, the PBX's literals out, the way the 3CX web UI sends them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from py3cx import ConfigError
from py3cx.odata import TimeSpan, function_path
from py3cx.reports import CallsType, Period, dn_list, get_report, parse_period
from py3cx.reports.arguments import local_midnight, parse_interval, resolve_arguments, zone_name
from py3cx.reports.query import ReportQuery

ZAGREB = ZoneInfo("Europe/Zagreb")
UTC = timezone.utc


def test_a_day_in_zagreb_is_sent_as_local_midnight_to_local_midnight_in_utc() -> None:
    period = parse_period("2025-03-14", "2025-03-14", ZAGREB)
    assert period.start == datetime(2025, 3, 13, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2025, 3, 14, 23, 0, tzinfo=UTC)


def test_a_period_across_the_summer_time_change_ends_at_the_summer_midnight() -> None:
    period = parse_period("2025-03-29", "2025-03-31", ZAGREB)
    assert period.start == datetime(2025, 3, 28, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert period.end == datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    assert local_midnight(date(2025, 10, 27), ZAGREB) == datetime(2025, 10, 26, 23, 0, tzinfo=UTC)


def test_date_times_are_taken_exactly_and_naive_ones_in_the_chosen_zone() -> None:
    period = parse_period("2025-03-01T08:30", "2025-03-01T17:00:00Z", ZAGREB)
    assert period.start == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert period.end == datetime(2025, 3, 1, 17, 0, tzinfo=UTC)


def test_an_end_before_the_start_or_an_unreadable_date_is_a_user_error() -> None:
    # the days are named as typed (the period's end is the next midnight, which nobody typed)
    with pytest.raises(ConfigError, match="--to 2025-03-01 is before --from 2025-03-15"):
        parse_period("2025-03-15", "2025-03-01", ZAGREB)
    with pytest.raises(ConfigError, match="--from: bad date"):
        parse_period("15.03.2025", "2025-03-16", ZAGREB)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-31", "2026-12-01", "--from 2026-11-31: there is no such day"),
        ("2026-11-01", "2025-02-29", "--to 2025-02-29: there is no such day"),
        ("2025-13-01", "2025-12-01", "--from 2025-13-01: there is no such day"),
    ],
)
def test_a_day_that_does_not_exist_is_named_with_its_option(start: str, end: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_period(start, end, ZAGREB)
    assert caught.value.hint is not None and "--to must not be before" not in caught.value.hint


def test_the_abandoned_calls_path_matches_what_the_web_ui_requests() -> None:
    report = get_report("abandoned-queue-calls")
    period = parse_period("2025-03-14", "2025-03-14", ZAGREB)
    args = resolve_arguments(report, {"queueDns": ["1234"]}, period=period, tz=ZAGREB)
    path = function_path(report.entity_set, report.function, **args)
    assert path == (
        "ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData(periodFrom=2025-03-13T23:00:00.000Z,"
        "periodTo=2025-03-14T23:00:00.000Z,queueDns='1234',waitInterval='0:00:0')"
    )


def test_the_call_log_gets_every_argument_with_the_modules_no_filter_values() -> None:
    report = get_report("call-log")
    period = Period(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 16, tzinfo=UTC))
    path, _ = ReportQuery(report, resolve_arguments(report, period=period, tz=UTC), period).request(None)
    assert path.endswith(
        "(periodFrom=2025-03-01T00:00:00.000Z,periodTo=2025-03-16T00:00:00.000Z,sourceType=0,sourceFilter='',"
        "destinationType=0,destinationFilter='',callsType=0,callTimeFilterType=0,callTimeFilterFrom='0:00:0',"
        "callTimeFilterTo='0:00:0',hidePcalls=false)"
    )


def test_several_queues_go_in_one_space_separated_string_keeping_leading_zeros() -> None:
    assert dn_list(["0336", "0337"]) == "0336 0337"
    assert dn_list("0336,0337; 0338") == "0336 0337 0338"
    assert dn_list(None) == ""
    report = get_report("queue-performance-totals")
    period = parse_period("2025-03-01", "2025-03-01", UTC)
    args = resolve_arguments(report, {"queue_dns": ("0336", "0337")}, period=period, tz=UTC)
    assert args["queueDns"] == "0336 0337"
    assert "queueDns='0336%200337'" in function_path(report.entity_set, report.function, **args)


def test_wait_intervals_are_timedeltas_written_as_time_spans() -> None:
    report = get_report("abandoned-queue-calls")
    period = parse_period("2025-03-01", "2025-03-01", UTC)
    args = resolve_arguments(report, {"waitInterval": timedelta(seconds=20)}, period=period, tz=UTC)
    assert args["waitInterval"] == TimeSpan(timedelta(seconds=20))
    assert "waitInterval='0:00:20'" in function_path(report.entity_set, report.function, **args)
    assert parse_interval("0:00:20") == timedelta(seconds=20)
    assert parse_interval("1:30") == timedelta(hours=1, minutes=30)
    assert parse_interval("PT45S") == timedelta(seconds=45)
    assert parse_interval("90") == timedelta(seconds=90)
    with pytest.raises(ConfigError, match="bad time span"):
        parse_interval("twenty seconds")


def test_filter_codes_take_named_enums_and_plain_integers() -> None:
    report = get_report("call-log")
    period = parse_period("2025-03-01", "2025-03-01", UTC)
    args = resolve_arguments(report, {"callsType": CallsType.ALL, "sourceType": 3}, period=period, tz=UTC)
    assert args["callsType"] == 0 and args["sourceType"] == 3
    with pytest.raises(ConfigError, match="integer code"):
        resolve_arguments(report, {"callsType": "all"}, period=period, tz=UTC)


def test_an_unknown_argument_names_the_ones_the_report_takes() -> None:
    report = get_report("queue-performance-totals")
    with pytest.raises(ConfigError, match="no argument 'queue'") as caught:
        resolve_arguments(report, {"queue": "0336"}, period=parse_period("2025-03-01", "2025-03-01", UTC))
    assert "queueDns" in str(caught.value)


def test_a_report_with_a_period_refuses_to_run_without_one() -> None:
    with pytest.raises(ConfigError, match="needs a period"):
        resolve_arguments(get_report("call-log"), tz=UTC)


def test_the_client_time_zone_argument_is_an_iana_name() -> None:
    assert zone_name(ZAGREB) == "Europe/Zagreb"
    assert zone_name(timezone(timedelta(hours=1))) == "Etc/GMT-1"  # POSIX sign, as IANA writes it
    report = get_report("agent-login-history")
    args = resolve_arguments(report, period=parse_period("2025-03-01", "2025-03-01", ZAGREB), tz=ZAGREB)
    assert args["clientTimeZone"] == "Europe/Zagreb"


def test_a_period_is_cut_in_halves_on_whole_milliseconds() -> None:
    period = Period(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 1, 0, 0, 0, 3000, tzinfo=UTC))
    first, second = period.halves()
    assert first.end == second.start == datetime(2025, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)
    with pytest.raises(ValueError, match="too short"):
        Period(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)).halves()
