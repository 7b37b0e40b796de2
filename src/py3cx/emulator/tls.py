"""HTTPS and WSS for the emulator: a PBX answers only over TLS (BEHAVIOUR.md §1).

``3cx emulator serve --tls`` makes a throwaway certificate authority with trustme, issues a
certificate for ``127.0.0.1``, ``localhost`` and ``::1``, and writes the CA where a client can be
told to trust it (``3cx --ca-bundle FILE``, ``py3cx.Client(ca_bundle=FILE)``). ``--tls-cert`` and
``--tls-key`` serve your own certificate instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TLSFiles", "issue_throwaway_certificate"]


@dataclass(frozen=True)
class TLSFiles:
    """What uvicorn serves (``certfile``, ``keyfile``) and the CA a client must trust (``ca_file``)."""

    certfile: Path
    keyfile: Path | None
    ca_file: Path | None


def issue_throwaway_certificate(folder: Path, ca_file: Path) -> TLSFiles:
    """Make a CA, write it to ``ca_file``, and a server certificate and key into ``folder`` (0600).

    Example: ``issue_throwaway_certificate(Path(tmp), Path("emulator-ca.pem")).certfile``.
    """
    import trustme  # the emulator's own dependency; the library never needs it

    ca = trustme.CA(organization_name="py3cx emulator (throwaway CA)")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_file))
    # the private key: readable by its owner only, removed with the folder when the emulator stops
    chain = folder / "emulator-server.pem"
    descriptor = os.open(chain, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(server.private_key_and_cert_chain_pem.bytes())
    return TLSFiles(certfile=chain, keyfile=None, ca_file=ca_file)
