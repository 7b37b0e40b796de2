"""Profiles in config.toml (0600), secrets in the file or the keyring, and Client.from_env."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import py3cx
from py3cx._config import (
    Profile,
    config_path,
    delete_profile,
    list_profiles,
    load_profile,
    resolve_profile,
    save_profile,
    use_profile,
)
from py3cx._exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


@pytest.fixture
def memory_keyring() -> Iterator[dict[tuple[str, str], str]]:
    # keyring is optional for users but part of the test extras, so this never skips silently
    import keyring
    from keyring.backend import KeyringBackend

    store: dict[tuple[str, str], str] = {}

    class Backend(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Backend())
    try:
        yield store
    finally:
        keyring.set_keyring(previous)


def test_saved_profile_loads_back() -> None:
    path = save_profile("office", "https://pbx.example.com/", "reports", "s3cret", ca_bundle="/etc/ca.pem")
    assert path == config_path()
    profile = load_profile("office")
    assert profile == Profile(
        "office", "https://pbx.example.com", "reports", "s3cret", verify=True, ca_bundle="/etc/ca.pem"
    )


def test_config_file_is_created_0600_in_a_0700_folder() -> None:
    path = save_profile("office", "https://pbx.example.com", "reports", "s3cret")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_config_file_stays_0600_when_rewritten() -> None:
    save_profile("a", "https://a.example.com", "x", "1")
    path = save_profile("b", "https://b.example.com", "y", "2", verify=False)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in list_profiles()] == ["a", "b"]
    assert load_profile("b").verify is False


def test_secrets_with_quotes_backslashes_and_unicode_survive_the_toml_writer() -> None:
    secret = 'q"uo\\te\n\t\x7f\u00e9\U0001f600'
    path = save_profile("odd", "https://pbx.example.com", "id", secret)
    assert tomllib.loads(path.read_text("utf-8"))["profiles"]["odd"]["client_secret"] == secret
    assert load_profile("odd").secret == secret


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(min_size=1), client_id=st.text(min_size=1).filter(lambda t: t.strip() == t and t))
def test_any_secret_and_client_id_round_trip_through_the_file(secret: str, client_id: str) -> None:
    # surrogates cannot be written as UTF-8 at all; every other string must come back unchanged
    assume(not any("\ud800" <= ch <= "\udfff" for ch in secret + client_id))
    path = save_profile("any", "https://pbx.example.com", client_id, secret)
    table = tomllib.loads(path.read_text("utf-8"))["profiles"]["any"]
    assert (table["client_id"], table["client_secret"]) == (client_id, secret)
    assert load_profile("any").secret == secret


def test_profile_repr_and_public_dict_hide_the_secret() -> None:
    save_profile("office", "https://pbx.example.com", "reports", "s3cret")
    profile = load_profile("office")
    assert "s3cret" not in repr(profile)
    assert "s3cret" not in str(profile.public_dict())


def test_missing_profile_raises_config_error_with_a_hint() -> None:
    save_profile("office", "https://pbx.example.com", "reports", "s3cret")
    with pytest.raises(py3cx.ConfigError) as caught:
        load_profile("home")
    assert "office" in str(caught.value)
    assert caught.value.hint and "PY3CX_URL" in caught.value.hint


def test_invalid_toml_raises_config_error() -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[profiles.x\nurl=")
    with pytest.raises(py3cx.ConfigError) as caught:
        load_profile("x")
    assert str(path) in (caught.value.hint or "")


def test_profile_without_secret_is_invalid() -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.x]\nurl = "https://pbx"\nclient_id = "id"\n')
    with pytest.raises(py3cx.ConfigError):
        load_profile("x")


@pytest.mark.parametrize("name", ["", "a b", "../x", "x" * 65])
def test_bad_profile_names_are_refused(name: str) -> None:
    with pytest.raises(py3cx.ConfigError):
        save_profile(name, "https://pbx.example.com", "id", "s")


def test_delete_profile() -> None:
    save_profile("a", "https://a.example.com", "x", "1")
    save_profile("b", "https://b.example.com", "y", "2")
    delete_profile("a")
    assert [p.name for p in list_profiles()] == ["b"]
    with pytest.raises(py3cx.ConfigError):
        delete_profile("a")


def test_keyring_profile_keeps_the_secret_out_of_the_file(memory_keyring: dict[tuple[str, str], str]) -> None:
    path = save_profile("vault", "https://pbx.example.com", "reports", "s3cret", use_keyring=True)
    assert "s3cret" not in path.read_text("utf-8")
    assert list(memory_keyring.values()) == ["s3cret"]
    profile = load_profile("vault")
    assert profile.secret == "s3cret" and profile.use_keyring
    delete_profile("vault")
    assert memory_keyring == {}


def test_keyring_profile_whose_secret_vanished_is_a_config_error(
    memory_keyring: dict[tuple[str, str], str],
) -> None:
    save_profile("vault", "https://pbx.example.com", "reports", "s3cret", use_keyring=True)
    memory_keyring.clear()
    with pytest.raises(py3cx.ConfigError):
        load_profile("vault")


def test_from_env_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PY3CX_URL", "https://pbx.example.com")
    monkeypatch.setenv("PY3CX_CLIENT_ID", "reports")
    monkeypatch.setenv("PY3CX_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("PY3CX_VERIFY", "0")
    found = resolve_profile()
    assert (found.url, found.client_id, found.secret, found.verify) == (
        "https://pbx.example.com",
        "reports",
        "s3cret",
        False,
    )
    with py3cx.Client.from_env() as client:
        assert repr(client) == "Client(url='https://pbx.example.com', client_id='reports')"


def test_from_env_with_url_but_no_secret_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PY3CX_URL", "https://pbx.example.com")
    monkeypatch.setenv("PY3CX_CLIENT_ID", "reports")
    with pytest.raises(py3cx.ConfigError) as caught:
        py3cx.Client.from_env()
    assert "PY3CX_CLIENT_SECRET" in str(caught.value)


def test_from_env_with_a_profile_name_uses_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PY3CX_URL", "https://env.example.com")
    monkeypatch.setenv("PY3CX_CLIENT_ID", "env")
    monkeypatch.setenv("PY3CX_CLIENT_SECRET", "env-secret")
    save_profile("office", "https://pbx.example.com", "reports", "s3cret")
    with py3cx.Client.from_env("office") as client:
        assert client.url == "https://pbx.example.com" and client.client_id == "reports"


def test_from_env_falls_back_to_the_default_profile() -> None:
    save_profile("default", "https://pbx.example.com", "reports", "s3cret")
    assert resolve_profile().client_id == "reports"


def test_from_env_with_nothing_configured_is_a_config_error() -> None:
    with pytest.raises(py3cx.ConfigError) as caught:
        py3cx.AsyncClient.from_env()
    assert caught.value.hint and "PY3CX_CLIENT_ID" in caught.value.hint


def test_config_path_honours_py3cx_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PY3CX_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert config_path() == tmp_path / "elsewhere.toml"


def test_the_first_profile_saved_is_the_default_until_config_use_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PY3CX_PROFILE", raising=False)
    save_profile("office", "https://pbx.example.com", "reports", "s3cret-one")
    save_profile("lab", "https://lab.example.com", "reports", "s3cret-two")
    assert load_profile().name == "office"  # no "default" profile needed: the README's flow
    use_profile("lab")
    assert load_profile().name == "lab"
    monkeypatch.setenv("PY3CX_PROFILE", "office")
    assert load_profile().name == "office"  # the environment wins over the file's default
    assert load_profile("lab").name == "lab"  # and a name given wins over both
    monkeypatch.delenv("PY3CX_PROFILE")
    delete_profile("lab")  # the default goes away with its profile
    with pytest.raises(ConfigError) as caught:
        load_profile()
    assert caught.value.hint is not None
    assert "-p NAME" in caught.value.hint and "PY3CX_PROFILE" in caught.value.hint
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        use_profile("nope")
