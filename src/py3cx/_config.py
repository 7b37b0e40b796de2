"""Profiles: which PBX, which API client, and where its secret lives.

Profiles are tables of a TOML file, `platformdirs.user_config_dir("py3cx")/config.toml`
(`PY3CX_CONFIG` overrides the path), created with mode 0600 because it may hold secrets:

```toml
[profiles.office]
url = "https://pbx.example.com"
client_id = "reports"
client_secret = "..."        # or: secret_store = "keyring"
verify = true
ca_bundle = "/etc/ssl/pbx-ca.pem"
```

With `use_keyring=True` the secret goes to the system keyring (the optional `keyring` package,
`pip install 'py3cx[keyring]'`) and the file only says `secret_store = "keyring"`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from py3cx._exceptions import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Profile",
    "config_path",
    "delete_profile",
    "list_profiles",
    "load_profile",
    "resolve_profile",
    "save_profile",
    "use_profile",
]

log = logging.getLogger("py3cx")

DEFAULT_PROFILE = "default"
KEYRING_SERVICE = "py3cx"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Profile:
    """One PBX connection: URL, client id, secret, TLS settings. The repr hides the secret.

    Example: `Profile("office", "https://pbx.example.com", "reports", "s3cret")`
    """

    name: str
    url: str
    client_id: str
    secret: str = field(repr=False)
    verify: bool = True
    ca_bundle: str | None = None
    use_keyring: bool = False

    @property
    def client_secret(self) -> str:
        """The secret (the same as `.secret`, under the Client's argument name)."""
        return self.secret

    def public_dict(self) -> dict[str, Any]:
        """The profile without its secret, for display. Example: `profile.public_dict()["url"]`"""
        return {
            "name": self.name,
            "url": self.url,
            "client_id": self.client_id,
            "secret": "(keyring)" if self.use_keyring else "***",
            "verify": self.verify,
            "ca_bundle": self.ca_bundle,
        }


def config_path() -> Path:
    """The config file: `PY3CX_CONFIG`, else `<user config dir>/py3cx/config.toml`.

    Example: `config_path().exists()`
    """
    override = os.environ.get("PY3CX_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("py3cx")) / "config.toml"


def _read_tables(path: Path) -> dict[str, dict[str, Any]]:
    return _read(path)[0]


def _read(path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The profiles of the file and the name of the default one (`default = "office"`, or None)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint="check the file's permissions") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint=f"fix or delete {path}") from exc
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ConfigError(f"{path}: [profiles] must hold one table per profile", hint=f"fix or delete {path}")
    default = data.get("default")
    return profiles, default if isinstance(default, str) and default in profiles else None


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"invalid profile name {name!r}", hint="use letters, digits, '-' and '_' (at most 64)"
        )
    return name


def _keyring() -> Any:
    try:
        import keyring
    except ImportError as exc:
        raise ConfigError(
            "the keyring package is not installed",
            hint="pip install 'py3cx[keyring]', or store the secret in the file",
        ) from exc
    return keyring


def _keyring_user(name: str, url: str, client_id: str) -> str:
    return f"{name}:{client_id}@{url}"


def _profile(name: str, table: dict[str, Any], path: Path) -> Profile:
    url, client_id = table.get("url"), table.get("client_id")
    if not isinstance(url, str) or not url or not isinstance(client_id, str) or not client_id:
        raise ConfigError(f"profile {name!r} in {path} needs url and client_id", hint=f"fix or delete {path}")
    use_keyring = table.get("secret_store") == "keyring"
    if use_keyring:
        try:
            secret = _keyring().get_password(KEYRING_SERVICE, _keyring_user(name, url, client_id))
        except ConfigError:
            raise
        except Exception as exc:  # keyring backends raise their own types
            raise ConfigError(
                f"cannot read the secret of profile {name!r} from the keyring: {type(exc).__name__}",
                hint="unlock the system keyring, or save the profile again",
            ) from exc
        if not secret:
            raise ConfigError(
                f"the keyring holds no secret for profile {name!r}", hint="save the profile again"
            )
    else:
        secret = table.get("client_secret")
        if not isinstance(secret, str) or not secret:
            raise ConfigError(
                f"profile {name!r} in {path} has no client_secret", hint="save the profile again"
            )
    ca_bundle = table.get("ca_bundle")
    return Profile(
        name=name,
        url=url,
        client_id=client_id,
        secret=secret,
        verify=table.get("verify", True) is not False,
        ca_bundle=ca_bundle if isinstance(ca_bundle, str) and ca_bundle else None,
        use_keyring=use_keyring,
    )


def load_profile(name: str | None = None) -> Profile:
    """The named profile (else `PY3CX_PROFILE`, else the file's default, else "default"), secret included.

    Raises ConfigError when the file or the profile is missing or invalid.
    Example: `load_profile("office").url`
    """
    path = config_path()
    tables, default = _read(path)
    name = _check_name(name or os.environ.get("PY3CX_PROFILE") or default or DEFAULT_PROFILE)
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none"
        hint = (
            "pick one with `-p NAME` or PY3CX_PROFILE=NAME (`3cx config use NAME` makes it the default), "
            "save one with `3cx config set NAME`, or set PY3CX_URL, PY3CX_CLIENT_ID and PY3CX_CLIENT_SECRET"
        )
        raise ConfigError(f"no profile {name!r} in {path} (known: {known})", hint=hint)
    profile = _profile(name, tables[name], path)
    if not profile.use_keyring and os.name == "posix":
        with contextlib.suppress(OSError):
            if path.stat().st_mode & 0o077:
                log.warning("py3cx: %s holds a secret but others can read it: chmod 600 it", path)
    return profile


def list_profiles() -> list[Profile]:
    """Every saved profile, sorted by name (secrets are loaded; show `public_dict()`).

    Raises ConfigError for an invalid file. Example: `[p.name for p in list_profiles()]`
    """
    path = config_path()
    tables = _read_tables(path)
    profiles = []
    for name in sorted(tables):
        try:
            profiles.append(_profile(name, tables[name], path))
        except ConfigError:
            # list what can be listed; a broken profile shows up when it is loaded
            table = tables[name]
            profiles.append(
                Profile(
                    name, str(table.get("url", "")), str(table.get("client_id", "")), "", use_keyring=False
                )
            )
    return profiles


_HEADER = "# py3cx profiles: this file may hold secrets; keep it private (mode 0600)\n\n"


def _render(tables: dict[str, dict[str, Any]], default: str | None = None) -> str:
    document: dict[str, Any] = {} if default is None else {"default": default}
    document["profiles"] = {
        name: {key: value for key, value in tables[name].items() if isinstance(value, (str, bool))}
        for name in sorted(tables)
    }
    return _HEADER + tomli_w.dumps(document)


def _write(path: Path, tables: dict[str, dict[str, Any]], default: str | None = None) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_render(tables, default))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror}", hint="check the folder's permissions"
        ) from exc


def save_profile(
    name: str,
    url: str,
    client_id: str,
    secret: str,
    *,
    verify: bool = True,
    ca_bundle: str | None = None,
    use_keyring: bool = False,
) -> Path:
    """Create or replace a profile; return the config file's path. The file is written 0600.

    Raises ConfigError (bad name or URL, keyring unavailable, file not writable).
    Example: `save_profile("office", "https://pbx.example.com", "reports", "s3cret")`
    """
    _check_name(name)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"invalid PBX URL {url!r}", hint="give the PBX root, such as https://pbx.example.com"
        )
    if not client_id or not secret:
        raise ConfigError("a profile needs a client id and a secret")
    table: dict[str, Any] = {"url": url.rstrip("/"), "client_id": client_id}
    if use_keyring:
        try:
            _keyring().set_password(KEYRING_SERVICE, _keyring_user(name, table["url"], client_id), secret)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"cannot store the secret in the keyring: {type(exc).__name__}",
                hint="unlock the system keyring, or save without --keyring",
            ) from exc
        table["secret_store"] = "keyring"
    else:
        table["client_secret"] = secret
    table["verify"] = verify
    if ca_bundle:
        table["ca_bundle"] = ca_bundle
    path = config_path()
    tables, default = _read(path)
    tables[name] = table
    # the first profile saved is the one commands use until `3cx config use` says otherwise
    _write(path, tables, default or name)
    return path


def use_profile(name: str) -> Path:
    """Make a saved profile the default one; return the config file's path.

    Raises ConfigError when there is no such profile. Example: `use_profile("office")`
    """
    _check_name(name)
    path = config_path()
    tables, _ = _read(path)
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none"
        raise ConfigError(
            f"no profile {name!r} in {path} (known: {known})", hint="save it with `3cx config set NAME`"
        )
    _write(path, tables, name)
    return path


def delete_profile(name: str) -> None:
    """Remove a profile and its keyring secret.

    Raises ConfigError when there is no such profile. Example: `delete_profile("office")`
    """
    _check_name(name)
    path = config_path()
    tables, default = _read(path)
    table = tables.pop(name, None)
    if table is None:
        raise ConfigError(f"no profile {name!r} in {path}")
    if table.get("secret_store") == "keyring":
        with contextlib.suppress(Exception):  # a secret already gone is fine
            _keyring().delete_password(
                KEYRING_SERVICE, _keyring_user(name, str(table.get("url")), str(table.get("client_id")))
            )
    _write(path, tables, None if default == name else default)


def resolve_profile(name: str | None = None) -> Profile:
    """What `Client.from_env` connects with: the named profile if given, else `PY3CX_URL`,
    `PY3CX_CLIENT_ID`, `PY3CX_CLIENT_SECRET` (`PY3CX_VERIFY=0`, `PY3CX_CA_BUNDLE`), else the
    default profile.

    Raises ConfigError when none of those is set up. Example: `resolve_profile().url`
    """
    env = os.environ
    if name is None and env.get("PY3CX_URL"):
        missing = [var for var in ("PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET") if not env.get(var)]
        if missing:
            raise ConfigError(
                f"PY3CX_URL is set but {' and '.join(missing)} is not",
                hint="set PY3CX_CLIENT_ID and PY3CX_CLIENT_SECRET (Admin > Integrations > API)",
            )
        return Profile(
            name="(environment)",
            url=env["PY3CX_URL"],
            client_id=env["PY3CX_CLIENT_ID"],
            secret=env["PY3CX_CLIENT_SECRET"],
            verify=env.get("PY3CX_VERIFY", "1").strip().lower() not in _FALSE,
            ca_bundle=env.get("PY3CX_CA_BUNDLE") or None,
        )
    profile = load_profile(name)
    if env.get("PY3CX_VERIFY", "").strip().lower() in _FALSE:
        profile = dataclasses.replace(profile, verify=False)
    return profile
