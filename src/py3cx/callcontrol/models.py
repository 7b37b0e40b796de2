"""The Call Control wire models: DNs, devices, participants and action results.

Field names are the PBX's own (snake_case on this API). Models are lenient: unknown fields are
kept, every field is optional, and `status`/`type` are open sets of strings, because 3CX has no
published schema for Call Control (BEHAVIOUR.md §6 is rebuilt from the official examples).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CallControlResult",
    "CallParticipant",
    "DNDevice",
    "DNInfo",
    "FinalStatus",
    "ParticipantAction",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        """The model as the PBX would send it: wire names, null properties left out."""
        return self.model_dump(mode="json", exclude_none=True)


class DNDevice(_Wire):
    """A phone or softphone registered on a DN. `device_id` is a SIP URI."""

    dn: str | None = None
    device_id: str | None = None
    user_agent: str | None = None


class CallParticipant(_Wire):
    """One leg of a call as seen from a DN (`status`: `Dialing`, `Ringing`, `Connected`, ...)."""

    id: int | None = None
    status: str | None = None
    dn: str | None = None
    party_caller_name: str | None = None
    party_dn: str | None = None
    party_caller_id: str | None = None
    party_did: str | None = None
    device_id: str | None = None
    party_dn_type: str | None = None
    direct_control: bool | None = None
    originated_by_dn: str | None = None
    originated_by_type: str | None = None
    referred_by_dn: str | None = None
    referred_by_type: str | None = None
    on_behalf_of_dn: str | None = None
    on_behalf_of_type: str | None = None
    callid: int | None = None
    legid: int | None = None


class DNInfo(_Wire):
    """A DN visible to the API client, with its devices and current participants."""

    dn: str | None = None
    type: str | None = None
    devices: list[DNDevice] = Field(default_factory=list)
    participants: list[CallParticipant] = Field(default_factory=list)

    @field_validator("devices", "participants", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class FinalStatus(str, Enum):
    """The outcome of a Call Control request. The official types use -1/0/1; captures show names."""

    FAILED = "Failed"
    REJECTED = "Rejected"
    SUCCESS = "Success"


_FINAL_BY_INT = {-1: FinalStatus.FAILED, 0: FinalStatus.REJECTED, 1: FinalStatus.SUCCESS}
_FINAL_BY_NAME = {s.value.lower(): s for s in FinalStatus}


class CallControlResult(_Wire):
    """The reply to `makecall` and to participant actions.

    `finalstatus` arrives as an int (`-1`, `0`, `1`) or a string (`"Success"`); it is normalised
    to a `FinalStatus` when known and kept as the original text otherwise.

    Example: `CallControlResult.model_validate({"finalstatus": 1}).succeeded` is True.
    """

    finalstatus: FinalStatus | str | None = None
    reason: str | None = None
    result: CallParticipant | None = None
    reasontext: str | None = None

    @field_validator("finalstatus", mode="before")
    @classmethod
    def _normalise_status(cls, value: Any) -> Any:
        if value is None or isinstance(value, FinalStatus):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return _FINAL_BY_INT.get(value, str(value))
        text = str(value).strip()
        try:
            return _FINAL_BY_INT.get(int(text), text)
        except ValueError:
            return _FINAL_BY_NAME.get(text.lower(), text)

    @property
    def succeeded(self) -> bool:
        """True when the PBX accepted the request (`finalstatus` Success)."""
        return self.finalstatus is FinalStatus.SUCCESS


class ParticipantAction(str, Enum):
    """The actions `POST /callcontrol/{dn}/participants/{id}/{action}` accepts."""

    DROP = "drop"
    ANSWER = "answer"
    DIVERT = "divert"
    ROUTE_TO = "routeto"
    TRANSFER_TO = "transferto"
    ATTACH_DATA = "attach_participant_data"
