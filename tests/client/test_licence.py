"""A PBX whose licence has no API access: the emulator refuses as configured (both guessed forms), and
py3cx names the licence in the error, on both faces, asking LicenseStatus once per client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx2
import pytest

import py3cx
from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator
from py3cx.licence import Licence

OWNER = ApiClient("lic-owner", "lic-owner-s3cret", "SystemOwner")
ADMIN = ApiClient("lic-admin", "lic-admin-s3cret", "SystemAdmin")
ROUTE_POINT = ApiClient("8000", "lic-rp-s3cret-value", "SystemOwner")


def _emulator(licence: str, refusal: str = "forbidden") -> EmulatorConfig:
    return EmulatorConfig(
        seed=4, calls=40, clients=[OWNER, ADMIN, ROUTE_POINT], licence=licence, licence_refusal=refusal  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def pro() -> Iterator[str]:
    with running_emulator(_emulator("PRO")) as emu:
        yield emu.url


def _xapi_requests(url: str) -> int:
    return int(httpx2.get(f"{url}/_emulator/stats").json()["xapi_requests"])


def test_a_professional_pbx_refusal_names_the_licence_and_licence_status_is_read_once(pro: str) -> None:
    httpx2.post(f"{pro}/_emulator/reset-stats")
    with py3cx.Client(pro, OWNER.client_id, OWNER.secret) as pbx:
        for path in ("Users", "CallHistoryView"):
            with pytest.raises(py3cx.PermissionDeniedError) as caught:
                pbx.get(path, top=1)
            assert caught.value.hint is not None
            assert "Professional (3CXPSPROF)" in caught.value.hint
            assert "8SC+ Enterprise" in caught.value.hint
        # the licence is still readable, which is how py3cx could tell
        assert Licence.from_status(pbx.get("LicenseStatus")).edition == "Professional"
    assert _xapi_requests(pro) == 2 + 1 + 1  # two refusals, one LicenseStatus probe, the read above


def test_the_async_face_names_the_licence_too(pro: str) -> None:
    async def scenario() -> str | None:
        async with py3cx.AsyncClient(pro, OWNER.client_id, OWNER.secret) as pbx:
            with pytest.raises(py3cx.PermissionDeniedError) as caught:
                await pbx.get("Users", top=1)
            return caught.value.hint

    hint = asyncio.run(scenario())
    assert hint is not None and "Professional (3CXPSPROF)" in hint


def test_call_control_on_a_professional_pbx_names_the_licence(pro: str) -> None:
    client = py3cx.Client(pro, ROUTE_POINT.client_id, ROUTE_POINT.secret)
    with client as pbx, pytest.raises(py3cx.PermissionDeniedError) as caught:
        pbx.callcontrol.dns()
    assert caught.value.hint is not None and "Professional" in caught.value.hint


def test_an_expired_licence_is_named_with_its_date() -> None:
    with running_emulator(_emulator("expired")) as emu, py3cx.Client(emu.url, OWNER.client_id, OWNER.secret) as pbx:
        with pytest.raises(py3cx.PermissionDeniedError) as caught:
            pbx.get("Users", top=1)
        licence = Licence.from_status(pbx.get("LicenseStatus"))
    assert licence.expired() and licence.api_access() is False
    assert licence.expires_at is not None
    assert f"expired {licence.expires_at.date().isoformat()}" in str(caught.value.hint)


def test_an_enterprise_pbx_keeps_the_role_hint_for_a_role_refusal() -> None:
    with running_emulator(_emulator("ENT")) as emu, py3cx.Client(emu.url, ADMIN.client_id, ADMIN.secret) as pbx:
        with pytest.raises(py3cx.PermissionDeniedError) as caught:
            pbx.get("CallHistoryView", top=1)
        assert pbx.get("Users", top=1)["value"]
    assert "System Owner" in str(caught.value.hint)
    assert "licence" not in str(caught.value.hint)


def test_a_pbx_that_refuses_tokens_for_the_licence_says_so() -> None:
    with running_emulator(_emulator("PRO", "token")) as emu:
        client = py3cx.Client(emu.url, OWNER.client_id, OWNER.secret)
        with client as pbx, pytest.raises(py3cx.TokenError) as caught:
            pbx.get("Users", top=1)
    assert caught.value.status_code == 400
    assert "unauthorized_client" in str(caught.value)
    assert "8SC+ Enterprise" in str(caught.value.hint)


def test_web_users_are_not_refused_by_the_licence(pro: str) -> None:
    from py3cx.emulator import default_users

    user = default_users(4)[0]
    with py3cx.Client(pro, None, None, username=user.username, password=user.password) as pbx:
        assert pbx.get("Users", top=1)["value"]


@pytest.mark.parametrize(
    ("code", "edition", "access"),
    [
        ("3CXPSENT", "Enterprise", True),
        ("3CXPSPROF", "Professional", False),
        ("3CXPSSTD", "Standard", False),
        ("3CXPSFREE", "Free", False),
        ("SOMETHING", "unknown", None),
    ],
)
def test_editions_are_read_from_the_product_code(code: str, edition: str, access: bool | None) -> None:
    licence = Licence.from_status({"ProductCode": code, "LicenseActive": True, "MaxSimCalls": 8})
    assert (licence.edition, licence.api_access()) == (edition, access)


def test_an_inactive_or_past_licence_has_no_api_access() -> None:
    past = Licence.from_status({"ProductCode": "3CXPSENT", "ExpirationDate": "2020-01-01T00:00:00Z"})
    assert past.api_access(datetime(2026, 1, 1, tzinfo=timezone.utc)) is False
    assert Licence.from_status({"ProductCode": "3CXPSENT", "LicenseActive": False}).api_access() is False
    assert Licence.from_status({}).describe() == "unknown"
    # the spec's own example: year 1 means no expiry date, not an expired licence
    perpetual = Licence.from_status({"ProductCode": "3CXPSENT", "ExpirationDate": "0001-01-01T00:00:00.0000000+00:00"})
    assert perpetual.expires_at is None and perpetual.api_access() is True
