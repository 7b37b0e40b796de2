"""The request for one window of a report: its path (function arguments inlined) and query options.

Function reports get the window as their period arguments (``periodFrom``/``periodTo`` or
``startDt``/``endDt``); entity sets (CallHistoryView) get it as a ``$filter`` on their time column,
``SegmentStartTime ge … and SegmentStartTime lt …``. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from py3cx.odata import F, function_path
from py3cx.odata.filter import Expr
from py3cx.reports.arguments import Period
from py3cx.reports.definitions import ArgRole, ReportDefinition

__all__ = ["ReportQuery"]


@dataclass(frozen=True)
class ReportQuery:
    """A report with its arguments resolved (see ``resolve_arguments``), its period and an
    optional extra ``$filter``.

    Example: ``ReportQuery(get_report("call-log"), args, period).request(period)``.
    """

    definition: ReportDefinition
    arguments: dict[str, object] = field(default_factory=dict)
    period: Period | None = None
    filter: Expr | str | None = None

    def request(self, window: Period | None) -> tuple[str, dict[str, Any]]:
        """``(path, options)`` for ``client.get`` to fetch ``window`` (None: the whole period).

        Raises ValueError when an argument cannot be encoded.
        """
        defn = self.definition
        options: dict[str, Any] = {"orderby": list(defn.order_by) or None}
        span = window or self.period
        if defn.function is not None:
            args = dict(self.arguments)
            if span is not None:
                for arg in defn.arguments:
                    if arg.role is ArgRole.PERIOD_START:
                        args[arg.name] = span.start
                    elif arg.role is ArgRole.PERIOD_END:
                        args[arg.name] = span.end
            options["filter"] = self.filter
            return function_path(defn.entity_set, defn.function, **args), options
        expr: Expr | str | None = self.filter
        if span is not None and defn.time_column is not None:
            in_span = (F(defn.time_column) >= span.start) & (F(defn.time_column) < span.end)
            if expr is None:
                expr = in_span
            elif isinstance(expr, Expr):
                expr = in_span & expr
            else:
                expr = f"{in_span.to_odata()} and ({expr})"
        options["filter"] = expr
        return defn.entity_set, options

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this export for ``--resume``: the same report, arguments and filter."""
        path, options = self.request(self.period)
        flt = options.get("filter")
        return {
            "report": self.definition.name,
            "path": path,
            "filter": None if flt is None else (flt if isinstance(flt, str) else flt.to_odata()),
            "orderby": options.get("orderby"),
        }
