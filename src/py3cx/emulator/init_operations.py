"""The ``Init…`` functions: a new entity's template, filled as the admin console fills its form.

A client creates a fax machine or a trunk by asking the PBX for a template, changing what it
needs and posting it back (``GET Trunks/Pbx.InitTrunk(template='…')``, then ``POST /Trunks``):
the documented way to create trunks. Each template here is complete and postable as it is:

- ``Fax/Pbx.InitFax()``: the first free extension number, its number as ``AuthID`` and a fresh
  random password, transcription off;
- ``Trunks/Pbx.InitTrunk(template=Id)``: the first free trunk number and the template's gateway
  (``TrunkTemplates``: name, default registrar and proxy ports, template file); inbound and outbound
  calls on, 10 simultaneous calls; an unknown template is a 404 naming the argument;
- ``Trunks/Pbx.InitMasterBridge()``, ``Trunks/Pbx.InitSlaveBridge()``: the same for a bridge to
  another 3CX (gateway type ``BridgeMaster``/``BridgeSlave``, port 5060).

Host names, DIDs and credentials the provider gives are left empty for the user to fill; the PBX
leaves out what is null.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from . import directory, errors
from .registry import FunctionContext, xapi_function

__all__ = ["init_trunk"]


def _free_number(ctx: FunctionContext, set_name: str) -> str:
    with ctx.state.engine.connect() as conn:
        return directory.first_free_number(ctx.state, conn, set_name)


@xapi_function("Fax", "Pbx.InitFax")
def init_fax(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Fax/Pbx.InitFax()``: a fax machine ready to be posted to ``/Fax``."""
    number = _free_number(ctx, "Fax")
    return {
        "Id": 0,
        "Number": number,
        "AuthID": number,
        "AuthPassword": secrets.token_urlsafe(9),
        "FaxServer": False,
        "TranscriptionMode": "Nothing",
        "OutboundCallerId": "",
        "Groups": [],
    }


def _trunk(number: str, gateway: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": 0,
        "Number": number,
        "AuthID": "",
        "Direction": "Both",
        "EnableInboundCalls": True,
        "EnableOutboundCalls": True,
        "SimultaneousCalls": 10,
        "DidNumbers": [],
        "ExternalNumber": "",
        "OutboundCallerID": "",
        "IPRestriction": "Any",
        "TransportRestriction": "Any",
        "TranscriptionMode": "Nothing",
        "IsOnline": False,
        "Tags": [],
        "Gateway": {
            "Id": 0,
            "Host": "",
            "ProxyHost": "",
            "Internal": False,
            "IsCustom": False,
            "Lines": 10,
            "MatchingStrategy": "MatchAnyFields",
            "RequireRegistrationFor": "Nothing",
            "SRTPMode": "SRTPDisabled",
            "IPInRegistrationContact": "External",
            "SupportReinvite": True,
            "SupportReplaces": True,
            "TimeBetweenReg": 300,
            **gateway,
        },
    }


def init_trunk(ctx: FunctionContext, template_id: str) -> dict[str, Any]:
    """The trunk template for ``template_id`` (a ``TrunkTemplates`` Id). Raises XapiError(404)."""
    templates = ctx.state.tables["TrunkTemplates"].table
    with ctx.state.engine.connect() as conn:
        row = conn.execute(sa.select(templates).where(templates.c.Id == template_id)).mappings().first()
    if row is None:
        raise errors.not_found("template")
    number = _free_number(ctx, "Trunks")
    gateway = {
        "Name": row["Name"],
        "Type": "Provider",
        "Port": row["DefaultRegistrarPort"] or 5060,
        "ProxyPort": row["DefaultProxyPort"] or 5060,
        "TemplateFilename": row["Id"],
        "IsCustom": bool(row["IsCustom"]),
    }
    return _trunk(number, gateway)


@xapi_function("Trunks", "Pbx.InitTrunk")
def init_trunk_function(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Trunks/Pbx.InitTrunk(template='GenericSIPTrunk.pv.xml')``."""
    return init_trunk(ctx, str(ctx.args["template"]))


def _bridge(ctx: FunctionContext, kind: str, name: str) -> dict[str, Any]:
    gateway = {"Name": name, "Type": kind, "Port": 5060, "ProxyPort": 5060, "TemplateFilename": ""}
    trunk = _trunk(_free_number(ctx, "Trunks"), gateway)
    trunk["Gateway"]["RequireRegistrationFor"] = "Nothing" if kind == "BridgeMaster" else "InOutCalls"
    return trunk


@xapi_function("Trunks", "Pbx.InitMasterBridge")
def init_master_bridge(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Trunks/Pbx.InitMasterBridge()``: the side other 3CX systems register with."""
    return _bridge(ctx, "BridgeMaster", "Bridge (master)")


@xapi_function("Trunks", "Pbx.InitSlaveBridge")
def init_slave_bridge(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Trunks/Pbx.InitSlaveBridge()``: the side that registers with a master 3CX."""
    return _bridge(ctx, "BridgeSlave", "Bridge (slave)")
