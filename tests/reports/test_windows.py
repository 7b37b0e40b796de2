"""Windows of an export: how a window that timed out is cut without duplicates or gaps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from py3cx.reports import Period
from py3cx.reports.windows import Window, initial_windows

UTC = timezone.utc
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def test_a_window_with_nothing_written_is_cut_in_halves() -> None:
    window = Window(Period(T0, T0 + timedelta(days=2)))
    first, second = window.split()
    assert (first.period, second.period) == (
        Period(T0, T0 + timedelta(days=1)),
        Period(T0 + timedelta(days=1), T0 + timedelta(days=2)),
    )
    assert first.done == second.done == 0


def test_a_window_with_rows_written_continues_from_the_last_rows_time_past_its_ties() -> None:
    window = Window(Period(T0, T0 + timedelta(days=2)))
    for minutes in (1, 5, 9, 9):  # four rows written, two of them at 00:09
        window.note_row_key(T0 + timedelta(minutes=minutes))
        window.done += 1
    (rest,) = window.split()
    assert rest.period == Period(T0 + timedelta(minutes=9), T0 + timedelta(days=2))
    assert rest.done == 2  # the two rows at 00:09 are skipped, not fetched twice
    head, tail = rest.split()
    assert head.period is not None and head.period.start == T0 + timedelta(minutes=9)
    assert head.done == 2 and tail.done == 0


def test_rows_out_of_time_order_forbid_cutting() -> None:
    window = Window(Period(T0, T0 + timedelta(days=2)))
    window.note_row_key(T0 + timedelta(hours=5))
    window.note_row_key(T0 + timedelta(hours=1))
    window.done = 2
    assert window.ordered is False
    assert window.can_split(timedelta(seconds=1)) is False


def test_a_window_shorter_than_twice_the_minimum_is_not_cut() -> None:
    window = Window(Period(T0, T0 + timedelta(seconds=1)))
    assert window.can_split(timedelta(seconds=1)) is False
    assert Window(None).can_split(timedelta(seconds=1)) is False


def test_windows_survive_the_resume_file() -> None:
    last = T0 + timedelta(hours=3)
    window = Window(Period(T0, T0 + timedelta(days=1)), done=10, total=25, last_key=last, ties=2, expected=30)
    again = Window.from_json(window.to_json())
    assert (again.period, again.done, again.total, again.last_key, again.ties, again.expected) == (
        window.period, 10, 25, T0 + timedelta(hours=3), 2, 30,
    )  # fmt: skip


def test_a_window_cut_at_a_rows_time_knows_the_count_the_order_promises() -> None:
    window = Window(Period(T0, T0 + timedelta(days=1)), total=50)
    for minute in (1, 2, 3, 3):
        window.note_row_key(T0 + timedelta(minutes=minute))
    window.done = 4
    (rest,) = window.split()
    assert rest.expected == 50 - 4 + 2  # the rows not written, and the two ties asked again


def test_a_period_can_be_sliced_up_front() -> None:
    windows = initial_windows(Period(T0, T0 + timedelta(days=2, hours=12)), timedelta(days=1))
    assert [w.period.end - w.period.start for w in windows if w.period] == [
        timedelta(days=1), timedelta(days=1), timedelta(hours=12),
    ]  # fmt: skip
    assert len(initial_windows(Period(T0, T0 + timedelta(days=2)))) == 1


def test_a_crowded_window_is_sliced_after_its_first_page_from_the_last_rows_time() -> None:
    window = Window(Period(T0, T0 + timedelta(days=4)))
    for minute in range(1, 99):
        window.note_row_key(T0 + timedelta(minutes=minute))
    for _ in range(2):
        window.note_row_key(T0 + timedelta(hours=2))
    window.done = 100
    pieces = window.slice(4)
    assert [w.period.start for w in pieces if w.period] == [
        T0 + timedelta(hours=2) + (timedelta(days=4) - timedelta(hours=2)) * i / 4 for i in range(4)
    ]
    assert pieces[-1].period is not None and pieces[-1].period.end == T0 + timedelta(days=4)
    assert (pieces[0].done, pieces[0].ties) == (2, 2)  # the two rows at 02:00 are not fetched again
    assert all(p.done == 0 for p in pieces[1:])


def test_rows_all_at_one_time_add_to_the_ties_of_the_page_before() -> None:
    window = Window(Period(T0, T0 + timedelta(days=1)))
    at = T0 + timedelta(hours=1)
    for key in [T0] * 7 + [at] * 13:
        window.note_row_key(key)
    assert (window.last_key, window.ties, window.ordered) == (at, 13, True)
    window.note_row_key(T0)  # goes back in time: the PBX ignores the order
    assert window.ordered is False
    assert window.slice(3) == [window]
