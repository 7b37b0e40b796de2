"""The typed methods against an emulator playing a 20.0.4 PBX (and builds between the specs)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from py3cx import AsyncClient
from py3cx.xapi import PbxProfile, UnsupportedByPbxError
from py3cx.xapi.models import User

from .emulated_pbx import emulator_app, run, xapi_requests


@pytest.fixture(scope="module")
def old_pbx() -> Starlette:
    return emulator_app(spec_version="20.0.4")


def test_the_build_is_learnt_from_system_parameters(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> PbxProfile:
        return await pbx.xapi.pbx_profile()

    profile = run(old_pbx, scenario)
    assert profile.build is not None and profile.build[:3] == (20, 0, 4)
    assert profile.source == "Defs/Pbx.GetSystemParameters()"


def test_user_by_number_works_on_20_0_4_through_the_old_function(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[User, User]:
        first = await pbx.xapi.users.list(top=1, orderby="Number").first()
        assert first is not None and first.Number is not None
        return first, await pbx.xapi.users.get_by_number(first.Number)

    first, by_number = run(old_pbx, scenario)
    assert by_number.Id == first.Id


def test_the_build_is_asked_once_per_client(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[int, int]:
        start = xapi_requests(old_pbx)
        await pbx.xapi.users.get_by_number("100")
        after_first = xapi_requests(old_pbx) - start
        await pbx.xapi.users.get_by_number("101")
        await pbx.xapi.queues.get_by_number("0336")
        return after_first, xapi_requests(old_pbx) - start

    # system parameters + the call, then one request per call
    assert run(old_pbx, scenario) == (2, 4)


def test_an_operation_the_old_build_lacks_raises_before_sending_it(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[UnsupportedByPbxError | None, int]:
        await pbx.xapi.pbx_profile()
        start = xapi_requests(old_pbx)
        try:
            await pbx.xapi.holidays.list().to_list()
        except UnsupportedByPbxError as exc:
            return exc, xapi_requests(old_pbx) - start
        return None, xapi_requests(old_pbx) - start

    error, sent = run(old_pbx, scenario)
    assert error is not None and sent == 0
    assert "ListHoliday" in str(error) and "20.0.4" in str(error)
    assert error.hint is not None and "newer 3CX build" in error.hint


def test_a_body_field_the_old_build_does_not_know_is_refused_before_sending(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[UnsupportedByPbxError | None, int]:
        await pbx.xapi.pbx_profile()
        start = xapi_requests(old_pbx)
        try:
            await pbx.xapi.users.make_call(destination="101", dn="100", test_call=True)
        except UnsupportedByPbxError as exc:
            return exc, xapi_requests(old_pbx) - start
        return None, xapi_requests(old_pbx) - start

    error, sent = run(old_pbx, scenario)
    assert error is not None and "testCall" in str(error) and sent == 0


def test_assume_build_skips_asking_the_pbx(old_pbx: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[int, User]:
        pbx.xapi.assume_build("20.0.4.376")
        start = xapi_requests(old_pbx)
        user = await pbx.xapi.users.get_by_number("100")
        return xapi_requests(old_pbx) - start, user

    sent, user = run(old_pbx, scenario)
    assert sent == 1 and user.Number == "100"


def test_a_build_between_the_specs_is_decided_by_the_spec_it_serves() -> None:
    between = emulator_app(spec_version="20.0.4", build="20.0.7.412")

    async def scenario(pbx: AsyncClient) -> tuple[PbxProfile, User]:
        user = await pbx.xapi.users.get_by_number("100")
        return await pbx.xapi.pbx_profile(), user

    profile, user = run(between, scenario)
    assert profile.build == (20, 0, 7, 412)
    assert profile.paths is not None and "/Users/Pbx.GetByNumber(number={number})" in profile.paths
    assert user.Number == "100"


def test_a_current_pbx_gets_the_alternate_key_and_the_new_operations() -> None:
    app = emulator_app()

    async def scenario(pbx: AsyncClient) -> tuple[PbxProfile, User, int]:
        user = await pbx.xapi.users.get_by_number("100")
        holidays = await pbx.xapi.holidays.list().to_list()
        return await pbx.xapi.pbx_profile(), user, len(holidays)

    profile, user, _ = run(app, scenario)
    assert profile.build is not None and profile.build[:3] == (20, 0, 10)
    assert profile.paths is None  # the build was enough: the served spec was not fetched
    assert user.Number == "100"
