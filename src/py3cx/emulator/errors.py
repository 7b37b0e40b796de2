"""Error replies in the shapes a real PBX uses (BEHAVIOUR.md §1 and §4).

XAPI errors are OData: ``{"error": {"code": "", "message": "Number:\\nWARNINGS.XAPI.ALREADY_IN_USE",
"details": [{"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"}]}}``.
The token endpoint answers OAuth JSON: ``{"error": "invalid_client", "error_description": "..."}``.
Handlers raise :class:`XapiError`; the app turns it into the response.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

ALREADY_IN_USE = "WARNINGS.XAPI.ALREADY_IN_USE"
DUPLICATE = "WARNINGS.XAPI.DUPLICATE"
NOT_FOUND = "WARNINGS.XAPI.NOT_FOUND"
FILE_NOT_FOUND = "WARNINGS.XAPI.FILE_NOT_FOUND"
READ_ONLY = "WARNINGS.XAPI.READ_ONLY"  # guess: the key a PBX gives when a PATCH touches Number


def odata_error_body(message: str, *, target: str | None = None, key: str | None = None) -> dict[str, Any]:
    """Build the OData error object.

    With ``key`` and ``target`` the message becomes ``"<target>:\\n<key>"`` and ``details`` names
    them, as the PBX does for validation warnings.
    Example: ``odata_error_body("", target="Number", key=ALREADY_IN_USE)``.
    """
    if key is not None:
        text = f"{target}:\n{key}" if target else key
        detail: dict[str, Any] = {"code": "", "message": key}
        if target:
            detail["target"] = target
        return {"error": {"code": "", "message": text, "details": [detail]}}
    return {"error": {"code": "", "message": message}}


class XapiError(Exception):
    """An error reply to send: status, OData body and extra headers.

    Example: ``raise XapiError(404, key=NOT_FOUND, target="Id")``.
    """

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        key: str | None = None,
        target: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.body = body if body is not None else odata_error_body(message, target=target, key=key)
        self.headers = headers or {}
        error = self.body.get("error")
        super().__init__(f"{status}: {error.get('message', '') if isinstance(error, dict) else ''}")

    def response(self) -> Response:
        """The Starlette response for this error (an empty body when ``body`` is ``{}``)."""
        if not self.body:
            return Response(b"", self.status, headers=self.headers)
        return json_response(self.body, self.status, self.headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response (``application/json; charset=utf-8``), as the PBX sends them."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(payload, status, headers=headers, media_type="application/json; charset=utf-8")


def not_found(what: str = "") -> XapiError:
    """404 with ``WARNINGS.XAPI.NOT_FOUND`` (``what`` is the target, e.g. ``"Id"``)."""
    return XapiError(404, key=NOT_FOUND, target=what or None)


def no_route(path: str) -> XapiError:
    """404 for a path the PBX does not know (wrong name, unknown function, missing arguments)."""
    return XapiError(404, f"No HTTP resource was found that matches the request URI '{path}'.")


def bad_request(message: str) -> XapiError:
    """400 with a plain OData message (bad query options)."""
    return XapiError(400, message)


def server_error(message: str) -> XapiError:
    """500 with a plain OData message (a malformed function argument)."""
    return XapiError(500, message)


def oauth_error(status: int, error: str, description: str) -> Response:
    """The token endpoint's OAuth-style error. The description must never echo a secret."""
    return json_response({"error": error, "error_description": description}, status)
