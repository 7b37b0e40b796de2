"""The error a refused Call Control request raises."""

from __future__ import annotations

import json
from typing import Any

from py3cx._exceptions import APIError, APIStatusError
from py3cx.callcontrol.models import CallControlResult, FinalStatus

__all__ = ["CallControlError", "raise_for_result", "refusal_from_status_error"]

_HINTS = {
    "makecall": "check that the destination is dialable from this DN and that the DN is not busy",
    "answer": "only a ringing participant can be answered",
    "divert": "only a ringing participant can be diverted",
    "routeto": "routeto needs a participant the route point controls (direct_control)",
    "transferto": "only a connected participant can be transferred",
    "drop": "the participant may already be gone",
}


class CallControlError(APIError):
    """The PBX refused a Call Control request (`finalstatus` Failed or Rejected, or an error status).

    `.reasontext` is the PBX's explanation, `.reason` its code, `.finalstatus` the outcome,
    `.result` the whole `CallControlResult` and `.status_code` the HTTP status (200 when the PBX
    answered OK but reported a failure).

    Example: `except CallControlError as err: print(err.reasontext)`
    """

    def __init__(
        self,
        result: CallControlResult,
        *,
        status_code: int = 200,
        method: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        final = result.finalstatus
        status = final.value if isinstance(final, FinalStatus) else final
        text = result.reasontext or result.reason or "no reason given"
        super().__init__(
            f"Call Control request {status or 'failed'}: {text}", method=method, path=path, hint=hint
        )
        self.result = result
        self.status_code = status_code
        self.finalstatus = result.finalstatus
        self.reason = result.reason
        self.reasontext = result.reasontext


def _hint_for(path: str) -> str | None:
    return _HINTS.get(path.rstrip("/").rsplit("/", 1)[-1])


def raise_for_result(data: Any, *, method: str, path: str) -> CallControlResult:
    """Parse a `CallControlResult`; raise CallControlError unless it reports success.

    A reply without `finalstatus` but with a participant counts as success (some builds send
    only `result`). Raises CallControlError.
    Example: `raise_for_result({"finalstatus": 1}, method="POST", path="/callcontrol/100/makecall")`
    """
    result = CallControlResult.model_validate(data if isinstance(data, dict) else {})
    if result.succeeded:
        return result
    if result.finalstatus is None and result.result is not None and not result.reasontext:
        return result
    if result.finalstatus is None and data is None:
        return result  # an empty 2xx answer: accepted, nothing to report
    raise CallControlError(result, method=method, path=path, hint=_hint_for(path))


def refusal_from_status_error(error: APIStatusError) -> CallControlError | None:
    """A CallControlError when an error status carries a `CallControlResult` body, else None.

    Example: `refusal_from_status_error(err)` for a 400 with `{"reasontext": "busy"}`.
    """
    if not error.body:
        return None
    try:
        data = json.loads(error.body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not ({"reasontext", "finalstatus"} & data.keys()):
        return None
    result = CallControlResult.model_validate(data)
    return CallControlError(
        result,
        status_code=error.status_code,
        method=error.method,
        path=error.path,
        hint=_hint_for(error.path or ""),
    )
