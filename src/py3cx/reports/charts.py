"""Charts a manager would put on a slide, from the rows of an export.

- call history (call log or CallHistoryView): call volume by hour of day and by day;
- ``queue-performance-overview``: calls answered and dropped per agent, queue by queue;
- ``queue-performance-totals``: calls received, answered and dropped per queue;
- ``abandoned-queue-calls``: abandoned calls per queue and by hour of day.

``.png`` is drawn with matplotlib (the ``charts`` extra); ``.html`` is one self-contained page
with inline SVG, no script and nothing fetched. Counting needs one pass over the rows and
memory for the counts only.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from py3cx._durations import parse_datetime
from py3cx._exceptions import ConfigError

__all__ = ["CHARTED_REPORTS", "Panel", "build_panels", "write_chart"]

HISTORY_REPORTS = frozenset({"call-log", "old-call-log", "call-history"})
CHARTED_REPORTS = HISTORY_REPORTS | {
    "queue-performance-overview",
    "queue-performance-totals",
    "abandoned-queue-calls",
}

_TIME_COLUMN = {"call-log": "StartTime", "old-call-log": "StartTime", "call-history": "SegmentStartTime"}


@dataclass
class Panel:
    """One bar chart: a title, category labels and one or more named series of values."""

    title: str
    labels: list[str]
    series: dict[str, list[float]] = field(default_factory=dict)


def _int(value: Any) -> int:
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def _local(value: Any, tz: tzinfo) -> Any:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value).astimezone(tz)
    except ValueError:
        return None


def build_panels(report: str, rows: Iterable[Mapping[str, Any]], tz: tzinfo) -> list[Panel]:
    """Count ``rows`` of ``report`` into the panels of its chart.

    Raises ConfigError for a report that has no chart. Example: ``build_panels("call-log", rows, zone)``.
    """
    if report in HISTORY_REPORTS:
        column = _TIME_COLUMN[report]
        by_hour: Counter[int] = Counter()
        by_day: Counter[date] = Counter()
        for row in rows:
            moment = _local(row.get(column), tz)
            if moment is not None:
                by_hour[moment.hour] += 1
                by_day[moment.date()] += 1
        days = sorted(by_day)
        return [
            Panel(
                "Calls by hour of day",
                [f"{h:02d}" for h in range(24)],
                {"calls": [by_hour[h] for h in range(24)]},
            ),
            Panel("Calls by day", [d.isoformat() for d in days], {"calls": [by_day[d] for d in days]}),
        ]
    if report == "queue-performance-totals":
        queues: dict[str, list[int]] = {}
        for row in rows:
            label = f"{row.get('QueueDn') or ''} {row.get('QueueDisplayName') or ''}".strip()
            counts = queues.setdefault(label, [0, 0, 0])
            counts[0] += _int(row.get("QueueReceivedCount"))
            counts[1] += _int(row.get("ExtensionAnsweredCount"))
            counts[2] += _int(row.get("ExtensionDroppedCount"))
        labels = sorted(queues)
        return [
            Panel(
                "Queue calls",
                labels,
                {
                    name: [queues[q][i] for q in labels]
                    for i, name in enumerate(("received", "answered", "dropped"))
                },
            )
        ]
    if report == "queue-performance-overview":
        agents: dict[str, list[int]] = {}
        received: dict[str, int] = {}
        for row in rows:
            queue = str(row.get("QueueDn") or "")
            label = f"{queue} {row.get('ExtensionDisplayName') or row.get('ExtensionDn') or ''}".strip()
            counts = agents.setdefault(label, [0, 0])
            counts[0] += _int(row.get("ExtensionAnsweredCount"))
            counts[1] += _int(row.get("ExtensionDroppedCount"))
            received[queue] = max(received.get(queue, 0), _int(row.get("QueueReceivedCount")))
        labels = sorted(agents)
        queue_labels = sorted(received)
        return [
            Panel(
                "Calls per agent",
                labels,
                {"answered": [agents[a][0] for a in labels], "dropped": [agents[a][1] for a in labels]},
            ),
            Panel(
                "Calls received per queue", queue_labels, {"received": [received[q] for q in queue_labels]}
            ),
        ]
    if report == "abandoned-queue-calls":
        per_queue: Counter[str] = Counter()
        per_hour: Counter[int] = Counter()
        for row in rows:
            if row.get("CallTime") in (None, ""):
                continue  # one call, several polled agents: count the call once
            per_queue[str(row.get("QueueDn") or "")] += 1
            moment = _local(row.get("CallTime"), tz)
            if moment is not None:
                per_hour[moment.hour] += 1
        labels = sorted(per_queue)
        return [
            Panel("Abandoned calls per queue", labels, {"abandoned": [per_queue[q] for q in labels]}),
            Panel(
                "Abandoned calls by hour of day",
                [f"{h:02d}" for h in range(24)],
                {"abandoned": [per_hour[h] for h in range(24)]},
            ),
        ]
    known = ", ".join(sorted(CHARTED_REPORTS))
    raise ConfigError(f"no chart for {report}", hint=f"charts exist for: {known}")


def write_chart(panels: list[Panel], output: Path, *, title: str) -> None:
    """Draw ``panels`` to ``output``: ``.png`` (matplotlib) or ``.html`` (inline SVG).

    Raises ConfigError for another extension, or for PNG without matplotlib installed.
    Example: ``write_chart(build_panels("call-log", rows, zone), Path("calls.png"), title="March")``.
    """
    suffix = output.suffix.lower()
    if suffix == ".html":
        output.write_text(_html(panels, title), encoding="utf-8")
    elif suffix == ".png":
        _png(panels, output, title)
    else:
        raise ConfigError(f"cannot draw a chart as {output.name}", hint="use a file ending in .png or .html")


_PALETTE = ("#1f6fb2", "#e07b20", "#3a9d4a", "#c0392b")


def _png(panels: list[Panel], output: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "PNG charts need matplotlib", hint="pip install 'py3cx[charts]', or write the chart as .html"
        ) from None
    figure, axes = plt.subplots(len(panels), 1, figsize=(12, 4.5 * len(panels)), squeeze=False)
    for axis, panel in zip(axes[:, 0], panels, strict=True):
        count = len(panel.series) or 1
        width = 0.8 / count
        for i, (name, values) in enumerate(panel.series.items()):
            positions = [x + (i - (count - 1) / 2) * width for x in range(len(panel.labels))]
            axis.bar(positions, values, width=width, label=name, color=_PALETTE[i % len(_PALETTE)])
        axis.set_title(panel.title)
        axis.set_xticks(range(len(panel.labels)))
        axis.set_xticklabels(
            panel.labels, rotation=60 if len(panel.labels) > 12 else 0, ha="right", fontsize=8
        )
        axis.grid(axis="y", alpha=0.3)
        if len(panel.series) > 1:
            axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    plt.close(figure)


def _svg(panel: Panel) -> str:
    width, height, left, bottom, top = 960, 360, 50, 90, 30
    plot_w, plot_h = width - left - 20, height - bottom - top
    values = [v for series in panel.series.values() for v in series]
    peak = max(values, default=0) or 1
    slots = max(len(panel.labels), 1)
    count = max(len(panel.series), 1)
    bar = plot_w / slots * 0.8 / count
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    heading = html.escape(panel.title)
    parts.append(f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">{heading}</text>')
    for step in range(5):
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        tick = f"{peak * step / 4:.0f}"
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{tick}</text>')
    for i, label in enumerate(panel.labels):
        x0 = left + plot_w * i / slots + plot_w / slots * 0.1
        for j, (name, series) in enumerate(panel.series.items()):
            h = plot_h * series[i] / peak
            x = x0 + j * bar
            colour = _PALETTE[j % len(_PALETTE)]
            box = f'x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
            tip = f"{html.escape(label)} {html.escape(name)}: {series[i]:g}"
            parts.append(f'<rect {box} fill="{colour}"><title>{tip}</title></rect>')
        lx, ly = x0 + bar * count / 2, top + plot_h + 12
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10" text-anchor="end" '
            f'transform="rotate(-50 {lx:.1f} {ly:.1f})">{html.escape(label)}</text>'
        )
    for j, name in enumerate(panel.series):
        colour = _PALETTE[j % len(_PALETTE)]
        parts.append(
            f'<rect x="{left + j * 110}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + j * 110 + 14}" y="{height - 7}" font-size="11">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html(panels: list[Panel], title: str) -> str:
    body = "\n".join(f"<figure>{_svg(p)}</figure>" for p in panels)
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}figure{margin:0 0 2em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
