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
Importing it loads no resource and no model: each is loaded when first used.
"""

from py3cx.xapi._drift import PbxProfile, UnsupportedByPbxError
from py3cx.xapi._facade import XAPI, AsyncXAPI
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
