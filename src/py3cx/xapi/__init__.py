"""Typed XAPI: models and methods for all 601 operations of the 3CX V20 Configuration API.

Reached through a client::

    from py3cx import Client, F
    from py3cx.xapi.models import User

    with Client("https://pbx.example.com", "my-client", "secret") as pbx:
        for user in pbx.xapi.users.list(filter=F("Number").startswith("1"), select=["Id", "Number"]):
            print(user.Number)
        user = pbx.xapi.users.get_by_number("100")
        pbx.xapi.users.update(user.Id, User(FirstName="Ann"))     # PATCH sends FirstName only

The code under ``_generated/`` is written by ``tools/generate_xapi.py`` from the official spec;
this package adds the façade (:class:`XAPI`), pagers, model base types and version drift.
Importing it loads no resource, no model and not even pydantic: each loads when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from py3cx.xapi._drift import PbxProfile, UnsupportedByPbxError
from py3cx.xapi._facade import XAPI, AsyncXAPI

if TYPE_CHECKING:
    from py3cx.xapi._model_base import IsoDuration, OpenEnum, UtcDateTime, XapiModel, to_wire
    from py3cx.xapi._pager import AsyncPager, Pager

__all__ = [
    "XAPI",
    "AsyncPager",
    "AsyncXAPI",
    "IsoDuration",
    "OpenEnum",
    "Pager",
    "PbxProfile",
    "UnsupportedByPbxError",
    "UtcDateTime",
    "XapiModel",
    "to_wire",
]

# Names whose modules import pydantic: loaded on first access (PEP 562).
_LAZY = {
    "IsoDuration": "py3cx.xapi._model_base",
    "OpenEnum": "py3cx.xapi._model_base",
    "UtcDateTime": "py3cx.xapi._model_base",
    "XapiModel": "py3cx.xapi._model_base",
    "to_wire": "py3cx.xapi._model_base",
    "AsyncPager": "py3cx.xapi._pager",
    "Pager": "py3cx.xapi._pager",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'py3cx.xapi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
