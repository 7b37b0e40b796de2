"""`3cx emulator serve`: run the PBX emulator on loopback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer

from py3cx.cli import output

emulator_app = typer.Typer(
    help="The 3CX PBX emulator (for demos, tests and benchmarks).", no_args_is_help=True
)


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port_free(host: str, port: int) -> None:
    import socket

    from py3cx._exceptions import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on {host} is already in use ({exc.strerror})",
                hint="stop what listens there, choose another --port, or --port 0 for a free one",
            ) from None


def _serve_many(cfg: Any, count: int, host: str, port: int, pbx_list: Path | None) -> None:
    import dataclasses

    from py3cx.emulator import serve_many
    from py3cx.emulator.config import default_clients

    # each PBX its own seed, data and (unless --client named them) its own client secrets
    own_clients = cfg.clients == default_clients(cfg.seed)
    configs = [cfg] + [
        dataclasses.replace(cfg, seed=cfg.seed + i, **({"clients": [], "users": []} if own_clients else {}))
        for i in range(1, count)
    ]
    ports = [_free_port(host) for _ in configs] if port == 0 else [port + i for i in range(count)]
    for each in ports if port else ():
        _check_port_free(host, each)  # said before anything listens
    url_host = f"[{host}]" if ":" in host else host

    def ready(urls: list[str]) -> None:
        entries = []
        for i, (config, url) in enumerate(zip(configs, urls, strict=True), start=1):
            owner = next(c for c in config.clients if c.role == "SystemOwner" and not c.client_id.isdigit())
            entry = {
                "name": f"pbx-{i}",
                "url": url,
                "client_id": owner.client_id,
                "client_secret": owner.secret,
            }
            # a route point (a client whose id is a DN) gives connect the Call Control stream
            route = next((c for c in config.clients if c.client_id.isdigit()), None)
            if route is not None:
                entry.update(route_point_id=route.client_id, route_point_secret=route.secret)
            entries.append(entry)
        for entry in entries:
            output.info(f"{entry['name']}  {entry['url']}  (seed {configs[int(entry['name'][4:]) - 1].seed})")
        if pbx_list is not None:
            _write_private(pbx_list, json.dumps(entries, indent=2) + "\n")
            output.info(
                f"{len(entries)} PBXs listening on {url_host}; their list (with secrets) is in {pbx_list}"
            )
        else:
            output.info(
                f"{len(entries)} PBXs listening on {url_host}; --pbx-list FILE writes their credentials"
            )

    serve_many(configs, host, ports, ready=ready)


def _write_private(path: Path, text: str) -> None:
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


@emulator_app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0 picks a free one).")] = 5001,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")] = 1,
    calls: Annotated[
        int, typer.Option("--calls", min=0, help="Number of historical calls to generate.")
    ] = 2000,
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client", help="An API client as ID:SECRET:ROLE (SystemOwner or SystemAdmin); repeatable."
        ),
    ] = None,
    token_ttl: Annotated[
        float, typer.Option("--token-ttl", min=0.1, help="Token lifetime in seconds.")
    ] = 3600.0,
    expires_in_unit: Annotated[
        str,
        typer.Option("--expires-in-unit", help="Unit of expires_in: seconds (20.0.9+) or minutes (older)."),
    ] = "seconds",
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            help="Shares of failing requests, e.g. '500=0.05,503=0.05,429=0.05,504=0.02,reset=0.02'; "
            "Call Control: 'ws-drop=5' (drop every WebSocket every 5 s), 'event-delay=0.2' (seconds).",
        ),
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="SQLite file for the state (default: a temp file).")
    ] = None,
    spec: Annotated[
        str,
        typer.Option("--spec", help="PBX build whose official spec is served: 20.0.10 (current) or 20.0.4."),
    ] = "20.0.10",
    call_rate: Annotated[
        float,
        typer.Option(
            "--call-rate", min=0, help="New simulated calls per minute (live Call Control traffic)."
        ),
    ] = 0.0,
    max_range_days: Annotated[
        int | None,
        typer.Option("--max-range-days", min=1, help="Answer 504 to report ranges longer than this."),
    ] = None,
    ignore_orderby: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore-orderby",
            help="Ignore $orderby on this entity set (CallHistoryView, as one field report says a PBX does); "
            "repeatable.",
        ),
    ] = None,
    licence: Annotated[
        str,
        typer.Option(
            "--licence",
            help="The PBX's edition: ENT (API access), PRO or expired (API clients refused, see --licence-refusal).",
        ),
    ] = "ENT",
    licence_refusal: Annotated[
        str,
        typer.Option(
            "--licence-refusal",
            help="How a PBX without API rights refuses (a guess): forbidden (403 after the token; "
            "LicenseStatus and SystemStatus still answer) or token (the token request fails).",
        ),
    ] = "forbidden",
    tls: Annotated[
        bool,
        typer.Option(
            "--tls", help="Serve HTTPS and WSS only, as a PBX does, with a certificate from a throwaway CA."
        ),
    ] = False,
    tls_ca_out: Annotated[
        Path | None,
        typer.Option(
            "--tls-ca-out",
            help="Where --tls writes the CA to trust (3cx --ca-bundle FILE); default: the py3cx cache folder.",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="Serve TLS with this certificate (PEM; with its chain)."),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            "--tls-key", help="The private key of --tls-cert (PEM), unless the certificate file holds it."
        ),
    ] = None,
    pbxs: Annotated[
        int,
        typer.Option(
            "--pbxs",
            min=1,
            help="Serve this many independent PBXs from one process: PBX i on port --port + i, seed --seed + i.",
        ),
    ] = 1,
    pbx_list: Annotated[
        Path | None,
        typer.Option(
            "--pbx-list",
            help="Write the PBXs as JSON [{name, url, client_id, client_secret}] here (0600) once all listen.",
        ),
    ] = None,
) -> None:
    """Serve the emulator until interrupted; prints its URL and the credentials it accepts."""
    from py3cx._exceptions import ConfigError
    from py3cx.emulator import ApiClient, EmulatorConfig, FaultSpec, describe
    from py3cx.emulator import serve as run
    from py3cx.emulator.tls import TLSFiles, issue_throwaway_certificate

    if expires_in_unit not in ("seconds", "minutes"):
        raise ConfigError(f"--expires-in-unit must be 'seconds' or 'minutes', not {expires_in_unit!r}")
    if spec not in ("20.0.10", "20.0.4"):
        raise ConfigError(f"--spec must be '20.0.10' or '20.0.4', not {spec!r}")
    edition = {"ent": "ENT", "pro": "PRO", "expired": "expired"}.get(licence.lower())
    if edition is None:
        raise ConfigError(f"--licence must be ENT, PRO or expired, not {licence!r}")
    if licence_refusal not in ("forbidden", "token"):
        raise ConfigError(f"--licence-refusal must be 'forbidden' or 'token', not {licence_refusal!r}")
    try:
        clients = [ApiClient.parse(c) for c in client or []]
        fault_spec = FaultSpec.parse(faults) if faults else FaultSpec()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    cfg = EmulatorConfig(
        seed=seed,
        calls=calls,
        token_ttl=token_ttl,
        expires_in_unit=expires_in_unit,  # type: ignore[arg-type]
        faults=fault_spec,
        db_path=db,
        spec_version=spec,  # type: ignore[arg-type]
        call_rate=call_rate,
        max_range_days=max_range_days,
        ignore_orderby=tuple(ignore_orderby or ()),
        licence=edition,  # type: ignore[arg-type]
        licence_refusal=licence_refusal,  # type: ignore[arg-type]
    )
    if clients:
        cfg.clients = clients
    if pbx_list is not None:
        output.require_folder(pbx_list)
    if pbxs > 1 or pbx_list is not None:
        if db is not None and pbxs > 1:
            raise ConfigError("--db names one file; with --pbxs each PBX keeps its own temporary one")
        if tls or tls_cert:
            raise ConfigError("--tls serves one PBX", hint="run one `3cx emulator serve --tls` per PBX")
        _serve_many(cfg, pbxs, host, port, pbx_list)
        return
    if port == 0:
        port = _free_port(host)
    else:
        _check_port_free(host, port)  # said before the banner, not after "listening on"
    if tls_key is not None and tls_cert is None:
        raise ConfigError("--tls-key needs --tls-cert (the certificate the key belongs to)")
    for given in (tls_cert, tls_key):
        if given is not None and not given.is_file():
            raise ConfigError(f"no such certificate or key file: {given}")
    if not (tls or tls_cert):
        output.info(describe(cfg, f"http://{host}:{port}"))
        run(cfg, host, port)
        return
    with tempfile.TemporaryDirectory(prefix="py3cx-emulator-tls-") as folder:
        if tls_cert is not None:
            files = TLSFiles(certfile=tls_cert, keyfile=tls_key, ca_file=None)
        else:
            ca_file = tls_ca_out or Path(platformdirs.user_cache_dir("py3cx")) / "emulator-ca.pem"
            files = issue_throwaway_certificate(Path(folder), ca_file)
        url_host = f"[{host}]" if ":" in host else host
        output.info(describe(cfg, f"https://{url_host}:{port}"))
        if files.ca_file is not None:
            output.info(
                f"  TLS: a throwaway CA signed the certificate; trust it with --ca-bundle {files.ca_file}"
            )
        run(
            cfg,
            host,
            port,
            ssl_certfile=str(files.certfile),
            ssl_keyfile=str(files.keyfile) if files.keyfile else None,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(emulator_app, name="emulator")
