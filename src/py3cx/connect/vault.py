"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with the connect key.

The key comes from ``PY3CX_CONNECT_KEY`` (one key, or several separated by commas: the first
encrypts, all decrypt, which is how a key is rotated by hand), else from the key file
(``PY3CX_CONNECT_KEY_FILE``, default ``connect.key`` in the user config folder), made 0600 on first
use. Every machine of one database needs the same key. Nothing here prints, logs or puts a secret
or a key in an exception.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import platformdirs
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from py3cx._exceptions import ConfigError

__all__ = ["Vault", "key_file_path", "load_vault"]

_ENV_KEY = "PY3CX_CONNECT_KEY"
_ENV_FILE = "PY3CX_CONNECT_KEY_FILE"


def key_file_path() -> Path:
    """Where the key file is: ``PY3CX_CONNECT_KEY_FILE``, else ``<config dir>/connect.key``."""
    override = os.environ.get(_ENV_FILE)
    return Path(override) if override else Path(platformdirs.user_config_dir("py3cx")) / "connect.key"


def _parse_keys(text: str, where: str) -> list[bytes]:
    keys = [
        part.strip().encode("ascii", "replace") for part in text.replace("\n", ",").split(",") if part.strip()
    ]
    if not keys:
        raise ConfigError(f"no key in {where}", hint="a key is 44 characters of URL-safe base64 (Fernet)")
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"{where} holds something that is not a Fernet key",
                hint="a key is 44 characters of URL-safe base64; `3cx connect rotate-key` makes one",
            ) from None
    return keys


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".connect-key-", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Vault:
    """Encrypts and decrypts the secrets of one database. Its repr shows where the key is, not the key.

    Example: ``vault = load_vault(); token = vault.encrypt("s3cret"); vault.decrypt(token)``
    """

    def __init__(self, keys: list[bytes], source: str, file: Path | None = None) -> None:
        self._keys = keys
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self.source = source
        self.file = file

    def __repr__(self) -> str:
        return f"Vault(source={self.source!r})"

    def encrypt(self, secret: str) -> str:
        """The secret encrypted with the first key (text, safe to store)."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str, what: str = "a secret") -> str:
        """The secret back. Raises ConfigError (naming ``what``, never the value) with the wrong key."""
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise ConfigError(
                f"cannot decrypt {what}: the connect key ({self.source}) is not the one it was stored with",
                hint=f"set {_ENV_KEY} or {_ENV_FILE} to the key this database was made with",
            ) from None

    def derived_keys(self, purpose: str) -> list[bytes]:
        """32-byte keys for one purpose, HKDF-SHA256 of each key of the vault (the first is current):
        what signs with them survives restarts and is shared by every process of this key, and
        stops being accepted when its key is dropped. Example: ``vault.derived_keys("recording-urls")``
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        info = f"py3cx connect {purpose}".encode()
        return [HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(key) for key in self._keys]

    def rotate(self, stored: str) -> str:
        """``stored`` re-encrypted with the first key (any key of the vault may have made it)."""
        try:
            return self._fernet.rotate(stored.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with any known key", hint="nothing was changed"
            ) from None

    def with_new_key(self) -> Vault:
        """A vault whose first key is new and which still decrypts with the current keys."""
        return Vault([Fernet.generate_key(), *self._keys], self.source, self.file)

    def save(self, *, only_first: bool = False) -> None:
        """Write the keys to the key file (0600). Raises ConfigError when the key is from the environment."""
        if self.file is None:
            raise ConfigError(
                f"the key comes from {_ENV_KEY}: set the new key there yourself",
                hint=f"put the new key first in {_ENV_KEY} (comma-separated), run rotate-key, then drop the old one",
            )
        keys = self._keys[:1] if only_first else self._keys
        _write_private(self.file, "\n".join(key.decode("ascii") for key in keys) + "\n")


def load_vault(*, create: bool = True) -> Vault:
    """The vault of this machine: keys from ``PY3CX_CONNECT_KEY`` or the key file (made when missing
    and ``create``). Raises ConfigError for an unreadable or malformed key.
    Example: ``load_vault().encrypt("s3cret")``.
    """
    env = os.environ.get(_ENV_KEY)
    if env:
        return Vault(_parse_keys(env, _ENV_KEY), _ENV_KEY)
    path = key_file_path()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        if not create:
            raise ConfigError(
                f"no connect key file at {path}", hint=f"set {_ENV_KEY} or {_ENV_FILE}"
            ) from None
        key = Fernet.generate_key()
        _write_private(path, key.decode("ascii") + "\n")
        return Vault([key], f"key file {path}", path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the connect key file {path}: {exc}", hint=f"or set {_ENV_KEY}"
        ) from None
    return Vault(_parse_keys(text, f"the key file {path}"), f"key file {path}", path)
