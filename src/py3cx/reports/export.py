"""The streaming export: pages flow from the PBX to the part file and are never collected.

Windows (see ``windows.py``) are fetched in time order; within and across windows up to
``concurrency`` pages are in flight at once, and pages are written strictly in order, so memory
holds at most ``concurrency`` pages whatever the row count. After each page the part file is
flushed and the resume state saved. A 504 or a timeout on a window of an event report (call log,
history, abandoned calls...) cuts the window and carries on; other passing failures (5xx, 429,
dropped connections) are retried with backoff; what still fails is reported, window by window,
and ``--resume`` fetches it later. Refusals (401, 403, 404, 400) stop the export at once.

A short page is not the end of a window (a PBX may cap its page size): a window ends at its
``@odata.count`` or at an empty page. Every row's time is checked; a window is only cut at a
row's time while its rows came in time order, since a PBX that ignores ``$orderby`` could still
hold earlier rows in pages not fetched yet.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from py3cx._base_client import page_rows
from py3cx._durations import parse_datetime
from py3cx._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigError,
    GatewayTimeoutError,
)
from py3cx._retry import RetryPolicy
from py3cx.reports.columns import ColumnPlan
from py3cx.reports.query import ReportQuery
from py3cx.reports.resume import ExportState, part_path, state_path
from py3cx.reports.windows import Window, WindowStatus, initial_windows
from py3cx.reports.writers import Format, PartWriter, finalize, open_part, read_part

__all__ = ["ExportOptions", "ExportResult", "Missing", "PageSource", "run_export"]

log = logging.getLogger(__name__)

# Statuses worth another try of the same page: the PBX or the network was briefly unwell.
# never 500: on a PBX that is a malformed argument, the same on every try (a user error)
_TRANSIENT_STATUSES = frozenset({429, 502, 503})


class PageSource(Protocol):
    """What the export needs of a client: ``py3cx.Client.get``."""

    def get(
        self,
        path: str,
        *,
        filter: Any = None,
        orderby: Any = None,
        top: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
    ) -> Any: ...


@dataclass
class ExportOptions:
    """How to fetch: page size, pages in flight, retries, windows, a row limit.

    ``window`` cuts the period into slices up front (useful on a PBX that times out on long
    ranges, or caps report rows); ``min_window`` is the shortest span a 504 may cut down to.
    ``window_rows``: a window of an event report announcing more rows than this is cut into
    spans of about that many rows once its first page is in (that page is not written), so that
    no page has to skip past hundreds of thousands of rows (slow on any database), and no window
    comes near a row cap a PBX might put on reports (a guess: no source gives one; 20,000 was
    assumed); None never cuts.
    """

    page_size: int = 1000
    concurrency: int = 4
    # the export owns its retries: pages go through a client with max_retries=0
    retry_policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_retries=5))
    window: timedelta | None = None
    min_window: timedelta = timedelta(seconds=1)
    window_rows: int | None = 10_000
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ConfigError("the page size must be at least 1")
        if not 1 <= self.concurrency <= 32:
            raise ConfigError("--concurrency must be between 1 and 32")
        if self.limit is not None and self.limit < 0:
            raise ConfigError("the row limit cannot be negative")


@dataclass(frozen=True)
class Missing:
    """Rows that were not fetched: those of ``window`` after its first ``after_rows``."""

    window: str
    after_rows: int
    reason: str

    def describe(self) -> str:
        """Example: ``2025-03-02T00:00:00Z .. 2025-03-03T00:00:00Z (after its first 500 rows): 504 ...``."""
        where = (
            self.window if not self.after_rows else f"{self.window} (after its first {self.after_rows} rows)"
        )
        return f"{where}: {self.reason}"


@dataclass
class ExportResult:
    """What an export did: rows written, whether every row was fetched, and what was not."""

    output: Path
    rows: int
    complete: bool
    missing: list[Missing] = field(default_factory=list)
    splits: int = 0
    slices: int = 0
    retries: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``"1234 rows, complete"``, or the rows written and exactly what was not fetched."""
        if self.complete:
            return f"{self.rows} rows, complete"
        parts = "; ".join(m.describe() for m in self.missing)
        return f"{self.rows} rows written, INCOMPLETE; not fetched: {parts}"


ProgressCallback = Callable[[int, int | None], None]


def _is_too_big(exc: BaseException) -> bool:
    return isinstance(exc, GatewayTimeoutError | APITimeoutError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIStatusError) and exc.status_code in _TRANSIENT_STATUSES


def _reason(exc: BaseException) -> str:
    """A one-line reason for a page that could not be fetched (no response body, no secrets)."""
    if isinstance(exc, APIStatusError):
        text = f"HTTP {exc.status_code}"
        return f"{text} ({exc.hint})" if exc.hint else text
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


class _Run:
    """One export run: the windows, the pages in flight, the part file and the state."""

    def __init__(
        self,
        client: PageSource,
        query: ReportQuery,
        plan: ColumnPlan,
        state: ExportState,
        part: PartWriter,
        state_file: Path,
        options: ExportOptions,
        progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.query = query
        self.plan = plan
        self.state = state
        self.part = part
        self.state_file = state_file
        self.options = options
        self.progress = progress
        self.inflight: dict[tuple[int, int], Future[tuple[list[dict[str, Any]], int | None]]] = {}
        self.scheduled_to: dict[int, int] = {}  # window uid -> next skip to schedule
        self.attempts: dict[tuple[int, int], int] = {}
        self.result_splits = 0
        self.result_slices = 0
        self.result_retries = 0
        self.step = options.page_size  # rows a page brings: less than asked on a PBX that caps pages
        self.warnings: list[str] = []
        time_column = query.definition.time_column
        self.time_column = time_column if query.definition.splittable else None

    # -- scheduling ----------------------------------------------------------------------------

    def _pending(self) -> list[Window]:
        return [w for w in self.state.windows if w.status == WindowStatus.PENDING]

    def _limit_left(self) -> int | None:
        if self.options.limit is None:
            return None
        return max(self.options.limit - self.state.rows, 0)

    def _submit(self, pool: ThreadPoolExecutor, window: Window, skip: int, count: bool) -> None:
        path, options = self.query.request(window.period)
        top = self.options.page_size

        def fetch() -> tuple[list[dict[str, Any]], int | None]:
            data = self.client.get(path, top=top, skip=skip, count=True if count else None, **options)
            return page_rows(data, "GET", path)

        self.inflight[(window.uid, skip)] = pool.submit(fetch)
        self.scheduled_to[window.uid] = max(self.scheduled_to.get(window.uid, 0), skip + self.step)

    def _fill(self, pool: ThreadPoolExecutor) -> None:
        """Keep up to ``concurrency`` pages in flight, earliest first."""
        size = self.step
        limit_left = self._limit_left()
        budget_rows = None if limit_left is None else limit_left
        for window in self._pending():
            if len(self.inflight) >= self.options.concurrency:
                return
            if window.total is None:
                key = (window.uid, window.done)
                if key not in self.inflight:
                    self._submit(pool, window, window.done, count=True)
                # Until its first page says how many rows there are, later pages are unknown.
                continue
            skip = max(self.scheduled_to.get(window.uid, window.done), window.done)
            while skip < window.total and len(self.inflight) < self.options.concurrency:
                if budget_rows is not None and skip - window.done >= budget_rows:
                    break
                if (window.uid, skip) not in self.inflight:
                    self._submit(pool, window, skip, count=False)
                skip += size
            if budget_rows is not None:
                budget_rows -= max(window.total - window.done, 0)
                if budget_rows <= 0:
                    return

    def _drop_inflight(self, window: Window) -> None:
        for key in [k for k in self.inflight if k[0] == window.uid]:
            self.inflight.pop(key).cancel()
        self.scheduled_to.pop(window.uid, None)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        pool = ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="py3cx-export")
        try:
            self._loop(pool)
        finally:
            # On Ctrl-C do not wait for the requests in flight: their pages were never written,
            # and the resume state already says where to start again.
            pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while True:
            if self.options.limit is not None and self.state.rows >= self.options.limit:
                self.state.windows = [w for w in self.state.windows if w.status == WindowStatus.FAILED]
                self._save()
                return
            pending = self._pending()
            if not pending:
                return
            window = pending[0]
            self._fill(pool)
            key = (window.uid, window.done)
            if key not in self.inflight:
                self._submit(pool, window, window.done, count=window.total is None)
            future = self.inflight[key]
            try:
                rows, count = future.result()
            except Exception as exc:  # sorted below: split, retry, give up or raise
                del self.inflight[key]
                self._failed(pool, window, key, exc)
                continue
            del self.inflight[key]
            self.attempts.pop(key, None)
            self._write(window, rows, count)

    def _write(self, window: Window, rows: list[dict[str, Any]], count: int | None) -> None:
        if count is not None and window.total is None:
            window.total = count
            if window.expected is not None and count < window.expected:
                self._out_of_order(window)
                self._after_page()
                return
            if self._too_many(window) and self._slice(window):
                # The page is not written: the slices ask for its rows again, so cutting does
                # not rest on the PBX honouring $orderby.
                self._after_page()
                return
        sent = len(rows)
        left = self._limit_left()
        self._append(window, rows if left is None else rows[:left])
        # A PBX that ignores $top sends everything at once: asking again would repeat it.
        whole = sent > self.options.page_size
        if whole:
            self.warnings.append(f"{window.describe()}: the PBX ignored $top and sent {sent} rows at once")
        if whole or (window.total is not None and window.done >= window.total):
            self._finish(window)
        elif not sent:
            self._ran_dry(window)
        elif sent < self.step:
            # Fewer rows than asked is not the end (a PBX may cap its page size): the next page
            # starts where these stopped, and pages are planned at that size from now on.
            self.step = sent
            self._drop_inflight(window)
        self._after_page()

    def _append(self, window: Window, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.plan.observe(row)
        if self.time_column is not None and rows:
            self._note_times(window, rows, self.time_column)
        if rows:
            if self.state.first_width is None:
                self.state.first_width = len(self.plan.names)
            self.part.write(rows)
            self.state.part_bytes = self.part.flush()
        self.state.rows += len(rows)
        window.done += len(rows)
        self.state.extras = list(self.plan.extras)

    def _finish(self, window: Window) -> None:
        window.status = WindowStatus.DONE
        self._drop_inflight(window)
        self.state.windows = [w for w in self.state.windows if w.status != WindowStatus.DONE]

    def _ran_dry(self, window: Window) -> None:
        """An empty page: the end of a window without a count, or a row cap below its count."""
        if window.total is None or window.done >= window.total:
            self._finish(window)
        elif self._can_continue(window):
            # The PBX stopped before the count it announced (a row cap): the rest of the
            # window is asked for again from the last row's time.
            log.info(
                "%s: %d of %d rows sent, asking for the rest", window.describe(), window.done, window.total
            )
            self._drop_inflight(window)
            at = self.state.windows.index(window)
            self.state.windows[at : at + 1] = window.split()
            self.result_slices += 1
        else:
            # Without the time order the rest cannot be asked for: the export is incomplete, not
            # silently short.
            self._drop_inflight(window)
            window.status = WindowStatus.FAILED
            order = "" if window.ordered else " and ignored $orderby"
            window.error = f"the PBX announced {window.total} rows but sent {window.done}{order}"

    def _out_of_order(self, window: Window) -> None:
        """A window cut at a row's time holds fewer rows than the order promised: the PBX sent
        rows out of time order, and some before the cut were never fetched. Reported, not hidden."""
        assert window.total is not None and window.expected is not None
        self._drop_inflight(window)
        missed = window.expected - window.total
        window.status, window.total = WindowStatus.FAILED, None  # --resume asks and checks again
        window.error = f"the PBX ignored $orderby: {missed} rows before this period were not fetched"

    def _after_page(self) -> None:
        self._save()
        if self.progress is not None:
            self.progress(self.state.rows, self._expected())

    def _can_continue(self, window: Window) -> bool:
        period = window.period
        return (
            self.time_column is not None
            and period is not None
            and window.ordered
            and window.last_key is not None
            and window.last_key > period.start
        )

    def _too_many(self, window: Window) -> bool:
        limit = self.options.window_rows
        if limit is None or self.time_column is None or window.total is None:
            return False
        return window.total - window.done > limit

    def _slice(self, window: Window) -> bool:
        """Cut a window whose count is too high before any of its page is written; True if cut."""
        assert window.total is not None and self.options.window_rows
        pieces = -(-(window.total - window.done) // self.options.window_rows)
        replacement = window.slice(pieces)
        if len(replacement) < 2:
            return False
        log.info("%s holds %d rows: fetching it in %d windows", window.describe(), window.total, pieces)
        self._drop_inflight(window)
        at = self.state.windows.index(window)
        self.state.windows[at : at + 1] = replacement
        self.result_slices += 1
        return True

    @staticmethod
    def _note_times(window: Window, rows: list[dict[str, Any]], column: str) -> None:
        def moment(row: dict[str, Any]) -> Any:
            raw = row.get(column)
            try:
                return parse_datetime(raw) if isinstance(raw, str) else None
            except ValueError:
                return None

        def millisecond(at: Any) -> Any:
            return None if at is None else at.replace(microsecond=at.microsecond // 1000 * 1000)

        # Every row's time is checked (a few µs a row): one row out of order means the PBX
        # ignores $orderby, and the window is then never cut at a row's time. A window starts on
        # a whole millisecond (literals carry no more): rows in one millisecond count as ties.
        for row in rows:
            window.note_row_key(millisecond(moment(row)))

    def _expected(self) -> int | None:
        total = self.state.rows
        for window in self._pending():
            if window.total is None:
                return None
            total += window.total - window.done
        if self.options.limit is not None:
            total = min(total, self.options.limit)
        return total

    def _failed(self, pool: ThreadPoolExecutor, window: Window, key: tuple[int, int], exc: Exception) -> None:
        too_big = _is_too_big(exc)
        if too_big and self.query.definition.splittable and window.can_split(self.options.min_window):
            log.info("%s timed out (%s): splitting it", window.describe(), _reason(exc))
            self._drop_inflight(window)
            at = self.state.windows.index(window)
            self.state.windows[at : at + 1] = window.split()
            self.result_splits += 1
            self._save()
            return
        if too_big or _is_transient(exc):
            tries = self.attempts.get(key, 0) + 1
            self.attempts[key] = tries
            # A timeout that cannot be split will most likely time out again: try once more only.
            policy = self.options.retry_policy
            budget = min(policy.max_retries, 1) if too_big else policy.max_retries
            if tries <= budget:
                self.result_retries += 1
                time.sleep(policy.delay(tries - 1))
                return
            log.info("%s: giving up after %d tries: %s", window.describe(), tries, _reason(exc))
            self._drop_inflight(window)
            window.status = WindowStatus.FAILED
            window.error = _reason(exc)
            self._save()
            return
        raise exc

    def _save(self) -> None:
        self.state.save(self.state_file)


def run_export(
    client: PageSource,
    query: ReportQuery,
    plan: ColumnPlan,
    output: Path,
    fmt: Format,
    *,
    options: ExportOptions | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    inspect: Callable[[Iterator[dict[str, Any]]], None] | None = None,
) -> ExportResult:
    """Export every row of ``query`` to ``output`` in format ``fmt``; return what was done.

    ``output`` must not exist unless ``overwrite`` (or it was written by the interrupted export
    being resumed). With ``resume`` the export continues from ``output``'s resume file. On return
    the output holds every row fetched; when some could not be fetched the resume file and the
    part file stay, and ``result.missing`` says exactly which windows are missing. ``inspect``,
    when given, is handed an iterator over every row written (to draw a chart, say).

    Raises ConfigError (existing output, nothing to resume, a different export to resume),
    APIStatusError for refusals (401, 403, 404, 400...), OSError; KeyboardInterrupt leaves a
    resumable state behind.
    Example: ``run_export(client, ReportQuery(report, args, period), plan, Path("c.csv"), Format.CSV)``.
    """
    opts = options or ExportOptions()
    part_file, state_file = part_path(output), state_path(output)
    fingerprint = {**query.fingerprint(), "format": fmt.value, "columns": [c.name for c in plan.base]}
    if resume:
        state = ExportState.load(state_file)
        if state.fingerprint != fingerprint:
            raise ConfigError(
                f"{state_file} belongs to a different export",
                hint="resume with the same report, dates, arguments and format, or delete that file",
            )
        for window in state.windows:
            if window.status == WindowStatus.FAILED:
                window.status, window.error = WindowStatus.PENDING, None
        for key in state.extras:
            if key not in plan.extras:
                plan.extras.append(key)
        if not part_file.exists():
            raise ConfigError(
                f"cannot resume: {part_file} is gone", hint="start the export again without --resume"
            )
        part = open_part(fmt, part_file, plan, resume_at=state.part_bytes)
    else:
        if state_file.exists():
            raise ConfigError(
                f"an interrupted export of {output} exists ({state_file})",
                hint="add --resume to continue it, or delete that file and the .part file to start over",
            )
        if output.exists() and not overwrite:
            raise ConfigError(f"{output} already exists", hint="choose another output file, or pass --force")
        output.parent.mkdir(parents=True, exist_ok=True)
        state = ExportState(
            fingerprint=fingerprint,
            format=fmt.value,
            windows=initial_windows(query.period if query.definition.splittable else None, opts.window),
        )
        part = open_part(fmt, part_file, plan)
        state.save(state_file)
    # one retry policy: the export's (504 and timeouts split the window; the client must not
    # first wait out the same time-out again)
    with_options = getattr(client, "with_options", None)
    if with_options is not None:
        client = with_options(max_retries=0)
    run = _Run(client, query, plan, state, part, state_file, opts, progress)
    try:
        run.run()
    except BaseException:
        part.close()
        if not resume and state.rows == 0:
            # refused before a single row (a 403, a bad argument): nothing to resume, leave no debris
            part_file.unlink(missing_ok=True)
            state_file.unlink(missing_ok=True)
        raise
    part.close()
    complete = not state.windows
    missing = [Missing(w.describe(), w.done, w.error or "not fetched") for w in state.windows]
    if inspect is not None:
        inspect(read_part(fmt, part_file, plan))
    temporary = output.with_name(output.name + ".tmp")
    finalize(
        fmt,
        part_file,
        plan,
        temporary,
        first_width=state.first_width or len(plan.names),
        keep_part=not complete,
    )
    os.replace(temporary, output)
    if complete:
        part_file.unlink(missing_ok=True)
        state_file.unlink(missing_ok=True)
    else:
        state.finalized = True
        state.save(state_file)
    return ExportResult(
        output=output,
        rows=state.rows,
        complete=complete,
        missing=missing,
        splits=run.result_splits,
        slices=run.result_slices,
        retries=run.result_retries,
        warnings=run.warnings,
    )
