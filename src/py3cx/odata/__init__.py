"""Pure OData v4 encoding for the 3CX XAPI: literals, ``$filter`` expressions, query options, paths.

No I/O here. Every value reaches a URL through :func:`literal` (the one literal encoder) and is
then percent-encoded for its place (query string or path)::

    from py3cx.odata import F, build_query, function_path, TimeSpan
    build_query(filter=(F("LastName") == "O'Brien") & F("Number").startswith("1"), top=50)
    function_path("ReportAbandonedQueueCalls", "Pbx.GetAbandonedQueueCallsData",
                  periodFrom=start, periodTo=end, queueDns="0336", waitInterval=TimeSpan(timedelta(0)))
"""

from py3cx.odata.filter import Expr, F, Operand, and_, date_of, or_, tolower, toupper
from py3cx.odata.literals import EDM_TYPES, Duration, EnumMember, TimeSpan, Typed, literal
from py3cx.odata.paths import action_path, encode_path_literal, function_path, key_path
from py3cx.odata.query import build_query, encode_query_value, query_params

__all__ = [
    "EDM_TYPES",
    "Duration",
    "EnumMember",
    "Expr",
    "F",
    "Operand",
    "TimeSpan",
    "Typed",
    "action_path",
    "and_",
    "build_query",
    "date_of",
    "encode_path_literal",
    "encode_query_value",
    "function_path",
    "key_path",
    "literal",
    "or_",
    "query_params",
    "tolower",
    "toupper",
]
