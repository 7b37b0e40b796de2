"""The typed methods against an emulator playing a 20.0.4 PBX (and builds between the specs)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from py3cx import APIStatusError, AsyncClient, Client
from py3cx.emulator import running_emulator
from py3cx.xapi import PbxProfile, UnsupportedByPbxError
from py3cx.xapi._generated.drift import ADDED_SINCE_LEGACY, CURRENT_PATHS, LEGACY_BODY_FIELDS, LEGACY_PATHS
from py3cx.xapi.models import User
from xapi_codegen.spec_loader import load_spec

from .conftest import spec_file
from .emulated_pbx import ConnectedClient, emulator_app, run, xapi_requests
from .operation_walk import WalkStep, prepare_step, walk_steps


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


GUARDED = [
    step
    for step in walk_steps(load_spec(spec_file("20.0.10")))
    if step.operation.operation_id in CURRENT_PATHS
]


@pytest.fixture(scope="module")
def old_walk_pbx() -> Iterator[ConnectedClient]:
    connected = ConnectedClient(emulator_app(spec_version="20.0.4"))
    yield connected
    connected.close()


@pytest.mark.parametrize("step", [pytest.param(step, id=step.id) for step in GUARDED])
def test_every_operation_that_drifted_is_sent_in_the_form_a_20_0_4_pbx_has(
    old_walk_pbx: ConnectedClient, step: WalkStep
) -> None:
    operation_id = step.operation.operation_id
    legacy_path = LEGACY_PATHS.get(operation_id)

    async def scenario(pbx: AsyncClient) -> tuple[Exception | None, int]:
        await pbx.xapi.pbx_profile()
        prepared = await prepare_step(pbx, step)
        start = xapi_requests(old_walk_pbx.app)
        try:
            await prepared.invoke()
        except (APIStatusError, UnsupportedByPbxError) as exc:
            return exc, xapi_requests(old_walk_pbx.app) - start
        return None, xapi_requests(old_walk_pbx.app) - start

    error, sent = old_walk_pbx.run(scenario)
    if operation_id in ADDED_SINCE_LEGACY:
        assert isinstance(error, UnsupportedByPbxError) and sent == 0, f"{step.id}: {error}"
    elif legacy_path is not None:
        # The old form reached the old operation: answered, or the emulator names it (501).
        old_name = re.sub(r"\(.*\)$", "", legacy_path.rsplit("/", 1)[-1])
        assert error is None or (
            isinstance(error, APIStatusError) and error.status_code == 501 and old_name in str(error)
        ), f"{step.id}: {error}"
    else:
        # Same path, fewer body fields: a field the old build lacks is refused before sending.
        sent_fields = {field.wire for field in step.operation.body_fields if not field.optional}
        if sent_fields <= LEGACY_BODY_FIELDS[operation_id]:
            assert not isinstance(error, UnsupportedByPbxError), f"{step.id}: {error}"
        else:
            assert isinstance(error, UnsupportedByPbxError) and sent == 0, f"{step.id}: {error}"


def test_the_sync_client_picks_the_old_forms_too_over_a_real_server() -> None:
    config = emulator_app(spec_version="20.0.4").state.emulator.config
    with running_emulator(config) as emu:
        owner = next(c for c in emu.clients if c.role == "SystemOwner")
        with Client(emu.url, owner.client_id, owner.secret) as pbx:
            user = pbx.xapi.users.get_by_number("100")
            profile = pbx.xapi.pbx_profile()
            holidays = pbx.xapi.holidays.list()  # lazy: nothing is sent or checked yet
            with pytest.raises(UnsupportedByPbxError):
                holidays.to_list()
    assert user.Number == "100"
    assert profile.build is not None and profile.build[:3] == (20, 0, 4)
