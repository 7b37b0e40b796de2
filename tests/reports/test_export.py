"""Exports against an emulated PBX over HTTP: every row the PBX holds, once, whatever goes wrong."""

from __future__ import annotations

import csv
import json
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from py3cx import Client, ConfigError, InternalServerError, PermissionDeniedError, RetryPolicy
from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator
from py3cx.reports import ExportOptions, Format, build_query, choose_history_report, parse_period
from py3cx.reports.resume import part_path, state_path

from .conftest import ANCHOR, OWNER, Pbx

FAST_RETRIES = {"retry_policy": RetryPolicy(max_retries=8, initial_delay=0.01, max_delay=0.05)}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _expected_segments(pbx: Pbx, days: int, tz: str = "UTC") -> list[int]:
    first, last = pbx.days(days)
    period = parse_period(first, last, tz_of(tz))
    return pbx.segment_ids(period.start, period.end)


def tz_of(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def test_a_call_log_export_holds_exactly_the_segments_of_the_period(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(10)
    with pbx.client() as client:
        result = client.reports.export(
            "call-log", tmp_path / "log.csv", start=first, end=last, tz="Europe/Zagreb",
            options=ExportOptions(page_size=97, concurrency=3),
        )  # fmt: skip
    rows = _csv_rows(tmp_path / "log.csv")
    assert result.complete and result.rows == len(rows)
    assert result.summary() == f"{len(rows)} rows, complete"
    assert sorted(int(r["SegmentId"]) for r in rows) == _expected_segments(pbx, 10, "Europe/Zagreb")
    assert not part_path(tmp_path / "log.csv").exists() and not state_path(tmp_path / "log.csv").exists()


def test_the_csv_is_utf8_with_a_bom_and_the_schema_header(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(2)
    with pbx.client() as client:
        client.reports.export("call-log", tmp_path / "log.csv", start=first, end=last, tz="UTC")
    raw = (tmp_path / "log.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfActionDnCallerId,ActionDnDisplayName,actionDnDn,")
    rows = _csv_rows(tmp_path / "log.csv")
    recorded = [r for r in rows if r["Recordings"] not in ("", "[]")]
    assert recorded and json.loads(recorded[0]["Recordings"])[0]["Id"] == int(recorded[0]["DstRecId"])
    assert any("č" in r["SourceDisplayName"] or "ć" in r["SourceDisplayName"] for r in rows)


def test_a_504_on_a_long_range_splits_it_until_every_row_is_fetched(slow_pbx: Pbx, tmp_path: Path) -> None:
    first, last = slow_pbx.days(20)
    with slow_pbx.client() as client:
        result = client.reports.export(
            "call-log", tmp_path / "log.jsonl", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=100, **FAST_RETRIES),
        )  # fmt: skip
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    segment_ids = [json.loads(line)["SegmentId"] for line in lines]
    assert result.complete and result.splits >= 3
    assert sorted(segment_ids) == _expected_segments(slow_pbx, 20)


def _statuses(pbx: Pbx) -> dict[str, int]:
    import httpx2

    stats: dict[str, int] = httpx2.get(f"{pbx.url}/_emulator/stats").json()["statuses"]
    return stats


def test_a_504_goes_straight_to_the_split_without_the_clients_retries(slow_pbx: Pbx, tmp_path: Path) -> None:
    first, last = slow_pbx.days(20)
    before = _statuses(slow_pbx).get("504", 0)
    with slow_pbx.client() as client, client.with_options(max_retries=2) as retrying:
        result = retrying.reports.export(
            "call-log", tmp_path / "log.csv", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=500, concurrency=1, **FAST_RETRIES),
        )  # fmt: skip
        assert retrying.max_retries == 2  # the caller's client keeps its own retries
    assert result.complete and result.splits >= 3
    # each window too long for the PBX was asked once, then cut: no request waited out a 504 twice
    assert _statuses(slow_pbx).get("504", 0) - before == result.splits


def test_a_500_on_a_report_page_is_raised_with_its_hint_and_sent_once(tmp_path: Path) -> None:
    import httpx2

    from py3cx.emulator import FaultSpec

    config = EmulatorConfig(seed=5, calls=100, clients=[OWNER], now=ANCHOR, faults=FaultSpec(error_500=1.0))
    with running_emulator(config) as emu:
        with Client(emu.url, OWNER.client_id, OWNER.secret) as client, pytest.raises(InternalServerError) as caught:
            client.reports.export(
                "call-log", tmp_path / "log.csv", start="2025-03-01", end="2025-03-05", tz="UTC",
                options=ExportOptions(concurrency=1, **FAST_RETRIES),
            )  # fmt: skip
        assert httpx2.get(f"{emu.url}/_emulator/stats").json()["xapi_requests"] == 1
    assert caught.value.hint and "argument" in caught.value.hint


def test_call_history_from_the_view_is_split_the_same_way(slow_pbx: Pbx, tmp_path: Path) -> None:
    first, last = slow_pbx.days(12)
    with slow_pbx.client() as client:
        result = client.reports.export(
            "call-history", tmp_path / "history.csv", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=50, concurrency=2, **FAST_RETRIES),
        )  # fmt: skip
    ids = [int(r["SegmentId"]) for r in _csv_rows(tmp_path / "history.csv")]
    assert result.complete and result.splits >= 2
    assert ids == _expected_segments(slow_pbx, 12)  # in time order, no duplicate, no gap


def test_faults_do_not_cost_a_row_or_add_one(faulty_pbx: Pbx, tmp_path: Path) -> None:
    first, last = faulty_pbx.days(15)
    with faulty_pbx.client() as client:
        result = client.reports.export(
            "call-log", tmp_path / "log.csv", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=40, concurrency=4, **FAST_RETRIES),
        )  # fmt: skip
    ids = [int(r["SegmentId"]) for r in _csv_rows(tmp_path / "log.csv")]
    assert result.complete and result.retries > 0 and result.splits > 0
    assert len(ids) == len(set(ids))
    assert sorted(ids) == _expected_segments(faulty_pbx, 15)


def _interrupt_after(rows: int) -> Any:
    def progress(done: int, total: int | None) -> None:
        if done >= rows:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "parquet"])
def test_an_interrupted_export_resumes_without_duplicates_or_gaps(
    faulty_pbx: Pbx, tmp_path: Path, fmt: str
) -> None:
    first, last = faulty_pbx.days(12)
    output = tmp_path / f"log.{fmt}"
    options = ExportOptions(page_size=30, concurrency=3, **FAST_RETRIES)
    with faulty_pbx.client() as client:
        with pytest.raises(KeyboardInterrupt):
            client.reports.export(
                "call-log",
                output,
                start=first,
                end=last,
                tz="UTC",
                options=options,
                progress=_interrupt_after(200),
            )
        assert not output.exists() and state_path(output).exists()
        # a page written to the part file but not yet recorded in the state: the resume drops it
        with part_path(output).open("ab") as part:
            part.write(b'{"SegmentId": 999999}\n' if fmt != "csv" else b"stray,row\r\n")
        result = client.reports.export(
            "call-log", output, start=first, end=last, tz="UTC", options=options, resume=True
        )
    assert result.complete
    ids = [int(v) for v in _segment_ids(output, fmt)]
    assert len(ids) == result.rows == len(set(ids))
    assert sorted(ids) == _expected_segments(faulty_pbx, 12)


def _segment_ids(output: Path, fmt: str) -> list[Any]:
    if fmt == "csv":
        return [r["SegmentId"] for r in _csv_rows(output)]
    if fmt == "jsonl":
        return [json.loads(line)["SegmentId"] for line in output.read_text(encoding="utf-8").splitlines()]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_table(output, columns=["SegmentId"]).column("SegmentId").to_pylist())
    from openpyxl import load_workbook

    sheet = load_workbook(output, read_only=True).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    at = header.index("SegmentId")
    return [row[at] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_resume_refuses_a_different_export(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(5)
    output = tmp_path / "log.csv"
    with pbx.client() as client:
        with pytest.raises(KeyboardInterrupt):
            client.reports.export(
                "call-log", output, start=first, end=last, tz="UTC",
                options=ExportOptions(page_size=20, concurrency=1), progress=_interrupt_after(20),
            )  # fmt: skip
        with pytest.raises(ConfigError, match="different export"):
            client.reports.export(
                "call-log", output, start=first, end=last + timedelta(days=1), tz="UTC", resume=True
            )
        with pytest.raises(ConfigError, match="interrupted export"):
            client.reports.export("call-log", output, start=first, end=last, tz="UTC")


def test_an_existing_file_is_never_overwritten_silently(pbx: Pbx, tmp_path: Path) -> None:
    output = tmp_path / "totals.csv"
    output.write_text("precious", encoding="utf-8")
    first, last = pbx.days(3)
    with pbx.client() as client:
        with pytest.raises(ConfigError, match="already exists"):
            client.reports.export("queue-performance-totals", output, start=first, end=last, tz="UTC")
        assert output.read_text(encoding="utf-8") == "precious"
        client.reports.export(
            "queue-performance-totals", output, start=first, end=last, tz="UTC", overwrite=True
        )
    assert len(_csv_rows(output)) == 3


def test_an_aggregate_that_times_out_says_exactly_what_is_missing(slow_pbx: Pbx, tmp_path: Path) -> None:
    first, last = slow_pbx.days(10)
    output = tmp_path / "overview.csv"
    with slow_pbx.client() as client:
        result = client.reports.export(
            "queue-performance-overview",
            output,
            start=first,
            end=last,
            tz="UTC",
            options=ExportOptions(**FAST_RETRIES),
        )
    assert not result.complete and result.rows == 0
    assert "the whole report: HTTP 504" in result.summary()
    assert "shorter date range" in result.summary()
    assert state_path(output).exists()  # --resume can try again later


def test_limit_stops_after_that_many_rows(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(10)
    with pbx.client() as client:
        result = client.reports.export(
            "call-log", tmp_path / "log.csv", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=30, limit=75),
        )  # fmt: skip
    assert result.complete and result.rows == 75 == len(_csv_rows(tmp_path / "log.csv"))


def test_a_refusal_stops_the_export_with_the_pbx_error(pbx: Pbx, tmp_path: Path) -> None:
    admin = ApiClient("reports-admin", "reports-admin-secret", "SystemAdmin")
    pbx.config.clients.append(admin)
    first, last = pbx.days(2)
    client = Client(pbx.url, admin.client_id, admin.secret, max_retries=0)
    with client, pytest.raises(PermissionDeniedError):
        client.reports.export("call-history", tmp_path / "h.csv", start=first, end=last, tz="UTC")


def test_queries_are_built_from_python_values(pbx: Pbx) -> None:
    query = build_query("abandoned-queue-calls", start="2025-03-01", end="2025-03-02", tz="UTC",
                        arguments={"queueDns": ["0336"], "waitInterval": timedelta(seconds=20)})  # fmt: skip
    path, options = query.request(None)
    assert "queueDns='0336'" in path and "waitInterval='0:00:20'" in path
    assert options["orderby"] == ["CallTimeForCsv asc", "CallHistoryId asc", "PollingAttempts asc"]
    assert Format("xlsx") is Format.XLSX


def test_history_auto_reads_the_view_before_update_6_and_the_call_log_after(
    pbx: Pbx, tmp_path_factory: pytest.TempPathFactory
) -> None:
    period = parse_period(*pbx.days(3), timezone.utc)
    with pbx.client() as client:
        assert choose_history_report(client, period).name == "call-log"  # 20.0.10
        assert choose_history_report(client, period, "view").name == "call-history"
    old = EmulatorConfig(seed=21, calls=300, clients=[OWNER], now=ANCHOR, spec_version="20.0.4")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PY3CX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        with running_emulator(old) as emu, Client(emu.url, OWNER.client_id, OWNER.secret) as client:
            assert choose_history_report(client, period).name == "call-history"
            empty = parse_period("2020-01-01", "2020-01-02", timezone.utc)
            assert choose_history_report(client, empty).name == "call-log"  # nothing in the view then


def test_a_crowded_window_is_fetched_in_slices_without_duplicates_or_gaps(
    faulty_pbx: Pbx, tmp_path: Path
) -> None:
    first, last = faulty_pbx.days(5)
    with faulty_pbx.client() as client:
        result = client.reports.export(
            "call-history", tmp_path / "history.csv", start=first, end=last, tz="UTC",
            options=ExportOptions(page_size=25, window_rows=60, concurrency=4, **FAST_RETRIES),
        )  # fmt: skip
    ids = [int(r["SegmentId"]) for r in _csv_rows(tmp_path / "history.csv")]
    assert result.complete and result.slices >= 1
    assert ids == _expected_segments(faulty_pbx, 5)  # in time order, once each


def test_the_async_client_gives_the_same_rows_and_downloads(pbx: Pbx, tmp_path: Path) -> None:
    import asyncio

    from py3cx import AsyncClient
    from py3cx.reports import AsyncReports

    first, last = pbx.days(2)

    async def fetch() -> tuple[list[dict[str, Any]], int]:
        async with AsyncClient(pbx.url, OWNER.client_id, OWNER.secret, max_retries=0) as client:
            assert isinstance(client.reports, AsyncReports)
            rows = [row async for row in client.reports.rows("call-log", start=first, end=last, tz="UTC")]
            size = await client.reports.download(
                "call-log", tmp_path / "log.csv", start=first, end=last, tz="UTC"
            )
            return rows, size

    rows, size = asyncio.run(fetch())
    with pbx.client() as client:
        assert rows == list(client.reports.rows("call-log", start=first, end=last, tz="UTC"))
    assert rows and size == (tmp_path / "log.csv").stat().st_size


def test_a_pbx_that_ignores_top_is_read_once_not_again_and_again(tmp_path: Path) -> None:
    import httpx2

    rows = [{"QueueDn": f"{n:04d}", "QueueReceivedCount": n} for n in range(25)]
    requests: list[str] = []

    def pbx(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/connect/token":
            return httpx2.Response(
                200, json={"token_type": "Bearer", "expires_in": 3600, "access_token": "t"}
            )
        requests.append(str(request.url))
        return httpx2.Response(200, json={"@odata.count": 25, "value": rows})  # $top and $skip ignored

    transport = httpx2.MockTransport(pbx)
    with Client("http://pbx.test", "c", "s", transport=transport, max_retries=0) as client:
        result = client.reports.export(
            "queue-performance-totals", tmp_path / "t.csv", start="2025-03-01", end="2025-03-02", tz="UTC",
            options=ExportOptions(page_size=10),
        )  # fmt: skip
    assert result.rows == 25 == len(_csv_rows(tmp_path / "t.csv"))
    assert len(requests) == 1 and "ignored $top" in result.warnings[0]


def _capped_history_pbx(
    total: int, cap: int, *, newest_first: bool = False, late: int | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """A PBX whose CallHistoryView sends at most ``cap`` rows per query (a report row cap),
    while $count tells the truth. Rows are one a minute from 2025-03-01, sent in time order
    or, ignoring $orderby, ``newest_first`` or with row ``late`` sent last."""
    import re

    import httpx2

    from py3cx._durations import format_datetime_utc, parse_datetime

    base = parse_period("2025-03-01", "2025-03-01", timezone.utc).start
    rows = [
        {"SegmentId": i, "SegmentStartTime": format_datetime_utc(base + timedelta(minutes=i))}
        for i in range(total)
    ]

    def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/connect/token":
            return httpx2.Response(
                200, json={"token_type": "Bearer", "expires_in": 3600, "access_token": "t"}
            )
        query = dict(request.url.params)
        low, high = re.findall(r"SegmentStartTime (?:ge|lt) (\S+)", query["$filter"])
        inside = [
            r
            for r in rows
            if parse_datetime(low) <= parse_datetime(r["SegmentStartTime"]) < parse_datetime(high)
        ]
        if newest_first:
            inside.reverse()
        if late is not None and rows[late] in inside:
            inside.remove(rows[late])
            inside.append(rows[late])
        skip, top = int(query.get("$skip", 0)), int(query["$top"])
        page = inside[:cap][skip : skip + top]
        body: dict[str, Any] = {"value": page}
        if query.get("$count") == "true":
            body["@odata.count"] = len(inside)
        return httpx2.Response(200, json=body)

    return httpx2.MockTransport(handle), rows


def test_a_row_cap_is_worked_around_by_asking_again_from_the_last_rows_time(tmp_path: Path) -> None:
    transport, rows = _capped_history_pbx(total=130, cap=20)
    with Client("http://pbx.test", "c", "s", transport=transport, max_retries=0) as client:
        result = client.reports.export(
            "call-history", tmp_path / "h.csv", start="2025-03-01", end="2025-03-01", tz="UTC",
            options=ExportOptions(page_size=7, window_rows=None),
        )  # fmt: skip
    assert result.complete and result.slices >= 6
    assert [int(r["SegmentId"]) for r in _csv_rows(tmp_path / "h.csv")] == [r["SegmentId"] for r in rows]


def test_a_row_cap_on_a_pbx_that_ignores_the_order_leaves_the_export_incomplete_not_short(
    tmp_path: Path,
) -> None:
    transport, _rows = _capped_history_pbx(total=50, cap=20, newest_first=True)
    with Client("http://pbx.test", "c", "s", transport=transport, max_retries=0) as client:
        result = client.reports.export(
            "call-history", tmp_path / "h.csv", start="2025-03-01", end="2025-03-01", tz="UTC",
            options=ExportOptions(page_size=7, window_rows=None),
        )  # fmt: skip
    assert result.rows == 20 and not result.complete
    assert "announced 50 rows but sent 20 and ignored $orderby" in result.summary()


def test_a_row_cap_on_a_pbx_that_sends_one_early_row_last_is_reported_not_missed(tmp_path: Path) -> None:
    # the first 20 rows come in time order, so the cut at the 20th row's time looks safe; the
    # count of what is left after it gives the early row away
    transport, _rows = _capped_history_pbx(total=50, cap=20, late=5)
    with Client("http://pbx.test", "c", "s", transport=transport, max_retries=0) as client:
        result = client.reports.export(
            "call-history", tmp_path / "h.csv", start="2025-03-01", end="2025-03-01", tz="UTC",
            options=ExportOptions(page_size=7, window_rows=None),
        )  # fmt: skip
    assert not result.complete
    assert "the PBX ignored $orderby: 1 rows before this period were not fetched" in result.summary()
