"""`3cx exporter` against the emulator over HTTP: metrics parse with prometheus-client's own parser,
match the PBX, and move when its calls and trunks change; failing and unknown targets; profile and
connect targets; one token across probes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

import py3cx
from clirun import command_3cx, run_3cx
from py3cx._auth import forget_tokens
from py3cx._config import save_profile
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator
from py3cx.exporter import create_app, profile_source

OWNER = ApiClient("exp-owner", "exp-owner-s3cret-value", "SystemOwner")
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=61, calls=30, clients=[OWNER])) as emu:
        # a still picture: no seeded call ends between the truth and the scrape
        frozen = httpx2.post(f"{emu.url}/_emulator/callcontrol/settings", json={"frozen": True})
        assert frozen.status_code == 200, frozen.text
        yield emu


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> Path:
    config = tmp_path / "config.toml"
    monkeypatch.setenv("PY3CX_CONFIG", str(config))
    save_profile("office", emulator.url, OWNER.client_id, OWNER.secret)
    save_profile("down", "http://127.0.0.1:9", OWNER.client_id, OWNER.secret)
    save_profile("wrong", emulator.url, OWNER.client_id, "not-the-secret")
    return config


def _parse(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


_LOOP = (
    asyncio.new_event_loop()
)  # one loop for every scrape: the exporter keeps its clients, as under uvicorn


def _scrape(app: object, *paths: str) -> list[httpx2.Response]:
    async def go() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx2.AsyncClient(transport=transport, base_url="http://exporter") as http:
            return [await http.get(path) for path in paths]

    return _LOOP.run_until_complete(go())


def _truth(emu: RunningEmulator) -> dict[str, object]:
    with py3cx.Client(emu.url, OWNER.client_id, OWNER.secret) as pbx:
        trunks = pbx.get("Trunks", select=["Number", "IsOnline"])["value"]
        return {
            "active": len(pbx.get("ActiveCalls")["value"]),
            "online": sum(1 for t in trunks if t["IsOnline"]),
            "trunks": trunks,
            "version": pbx.get("SystemStatus")["Version"],
        }


def test_a_probe_reads_the_pbx_and_moves_with_its_calls_and_trunks(
    profiles: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(profile_source)
    truth = _truth(emulator)
    # no token held in this process or on disk: the exporter must fetch one, once
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(profiles.parent / "exporter-cache"))
    forget_tokens()
    tokens_before = _token_requests(emulator)
    (first,) = _scrape(app, "/probe?target=office")
    assert first.status_code == 200
    m = _parse(first.text)
    assert m["threecx_up"][()] == 1
    assert m["threecx_build_info"][(("version", truth["version"]),)] == 1
    assert m["threecx_license_info"][(("edition", "Enterprise"), ("product_code", "3CXPSENT"))] == 1
    assert m["threecx_license_expiry_timestamp_seconds"][()] > time.time()
    assert m["threecx_trunks_registered"][()] == truth["online"]
    assert m["threecx_trunks_total"][()] == len(truth["trunks"])  # type: ignore[arg-type]
    assert m["threecx_calls_active"][()] == truth["active"]
    assert m["threecx_services_running"][()] > 0
    queues = m["threecx_queue_agents_logged_in"]
    assert queues and all(v >= 0 for v in queues.values())
    # the PBX changes: a trunk loses its registration, a caller waits in a queue
    online = next(t for t in truth["trunks"] if t["IsOnline"])  # type: ignore[attr-defined]
    assert (
        httpx2.post(f"{emulator.url}/_emulator/trunks/{online['Number']}", json={"online": False}).status_code
        == 204
    )
    queue_number, queue_name = next(iter(queues))[1][1], next(iter(queues))[0][1]
    started = httpx2.post(
        f"{emulator.url}/_emulator/callcontrol/calls", json={"from": "+442079460999", "to": queue_number}
    )
    assert started.status_code < 300, started.text  # the control route writes ActiveCalls before answering
    try:
        (second,) = _scrape(app, "/probe?target=office")
        after = _parse(second.text)
        assert after["threecx_trunks_registered"][()] == truth["online"] - 1  # type: ignore[operator]
        assert after["threecx_trunk_registered"][(("trunk", online["Number"]),)] == 0
        assert after["threecx_calls_active"][()] == truth["active"] + 1  # type: ignore[operator]
        key = (("name", queue_name), ("queue", queue_number))
        assert after["threecx_queue_calls_waiting"][key] == m["threecx_queue_calls_waiting"][key] + 1
        assert after["threecx_queue_longest_wait_seconds"][key] >= 0
    finally:
        httpx2.post(f"{emulator.url}/_emulator/trunks/{online['Number']}", json={"online": True})
        httpx2.post(f"{emulator.url}/_emulator/callcontrol/calls/{started.json()['callid']}/end")
    # one token for every probe: the PBX keeps one per client
    (third,) = _scrape(app, "/probe?target=office")
    assert _token_requests(emulator) - tokens_before == 1  # three probes, one token
    assert _parse(third.text)["threecx_token_requests_total"][()] == 1


def _token_requests(emu: RunningEmulator) -> int:
    return int(httpx2.get(f"{emu.url}/_emulator/stats").json()["token_requests"].get(OWNER.client_id, 0))


def test_failing_and_unknown_targets(profiles: Path) -> None:
    app = create_app(profile_source)
    down, wrong, unknown, missing, own = _scrape(
        app, "/probe?target=down", "/probe?target=wrong", "/probe?target=nowhere", "/probe", "/metrics"
    )
    assert down.status_code == 200 and wrong.status_code == 200
    d, w = _parse(down.text), _parse(wrong.text)
    assert d["threecx_up"][()] == 0 and d["threecx_api_errors_total"][(("status", "connection"),)] == 1
    assert w["threecx_up"][()] == 0 and w["threecx_api_errors_total"][(("status", "401"),)] >= 1
    assert list(w["threecx_api_errors_total"]) == [
        (("status", "401"),)
    ]  # a refused token is no connection error
    assert "threecx_calls_active" not in w
    assert unknown.status_code == 404 and "nowhere" in unknown.text
    assert missing.status_code == 400
    (metrics,) = _scrape(app, "/metrics")
    probes = _parse(metrics.text)["threecx_exporter_probes_total"]
    assert probes[(("result", "error"), ("target", "down"))] == 1
    assert probes[(("result", "unknown"), ("target", ""))] == 1  # not by name: any name could be asked
    _scrape(app, "/probe?target=elsewhere")
    (metrics,) = _scrape(app, "/metrics")
    probes = _parse(metrics.text)["threecx_exporter_probes_total"]
    assert probes[(("result", "unknown"), ("target", ""))] == 2
    assert not any(("target", "elsewhere") in labels for labels in probes)
    assert "not-the-secret" not in down.text + wrong.text + unknown.text + metrics.text + own.text


def test_connect_pbxs_are_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> None:
    from py3cx.connect.db import open_database
    from py3cx.connect.registry import PbxSettings, add_pbx
    from py3cx.connect.vault import load_vault
    from py3cx.exporter.app import connect_source

    monkeypatch.setenv("PY3CX_CONNECT_KEY_FILE", str(tmp_path / "connect.key"))
    url = f"sqlite:///{tmp_path / 'connect.db'}"
    db = open_database(url)
    add_pbx(
        db, load_vault(), PbxSettings(name="hq", url=emulator.url, client_id=OWNER.client_id), OWNER.secret
    )
    db.dispose()
    app = create_app(connect_source(url))
    hq, other = _scrape(app, "/probe?target=hq", "/probe?target=office")
    assert _parse(hq.text)["threecx_up"][()] == 1
    assert other.status_code == 404
    # the database fails (here: its PBX table is gone): a clear 503, not a 500 or "unknown target"
    with sqlite3.connect(tmp_path / "connect.db") as raw:
        raw.execute("ALTER TABLE pbx RENAME TO pbx_gone")
    broken, own = _scrape(app, "/probe?target=branch", "/metrics")
    assert broken.status_code == 503 and "connect database" in broken.text, broken.text
    assert (
        _parse(own.text)["threecx_exporter_probes_total"][(("result", "lookup_error"), ("target", ""))] == 1
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_probes_over_http_and_stops_on_sigterm(profiles: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env["PY3CX_CONFIG"] = str(profiles)
    env["PY3CX_CACHE_DIR"] = str(profiles.parent / "cache")
    port = _free_port()
    proc = subprocess.Popen(
        [*command_3cx(), "exporter", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline:
            try:
                body = httpx2.get(f"http://127.0.0.1:{port}/probe?target=office", timeout=10).text
                break
            except httpx2.TransportError:
                time.sleep(0.2)
        assert _parse(body)["threecx_up"][()] == 1
        taken = run_3cx(["exporter", "--listen", f"127.0.0.1:{port}"], env)
        assert taken.returncode == 2 and "already in use" in taken.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    bad = run_3cx(["exporter", "--listen", "nowhere"], env)
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr


def test_every_metric_the_dashboard_plots_is_exported(profiles: Path) -> None:
    import json
    import re

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "docs/grafana/py3cx-exporter.json").read_text()
    )
    wanted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(threecx_[a-z_]+)\b", target["expr"])
    }
    (probe,) = _scrape(create_app(profile_source), "/probe?target=office")
    families = {f.name for f in text_string_to_metric_families(probe.text)}
    exported = families | {f"{name}_total" for name in families}
    assert wanted and wanted <= exported, wanted - exported
    # the data source is a variable (the dashboard works imported or provisioned from a file)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    sources = [variables["pbx"]["datasource"]]
    sources += [p["datasource"] for p in dashboard["panels"]]
    sources += [t["datasource"] for p in dashboard["panels"] for t in p["targets"]]
    assert all(s == {"type": "prometheus", "uid": "${datasource}"} for s in sources), sources
    assert "__inputs" not in dashboard


def test_a_pbx_that_stops_answering_is_down_within_the_scrape_timeout(profiles: Path) -> None:
    from py3cx.exporter.app import DEFAULT_TIMEOUT, probe_timeout

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        save_profile("silent", f"http://127.0.0.1:{silent.getsockname()[1]}", OWNER.client_id, OWNER.secret)
        app = create_app(profile_source)

        async def scrape() -> httpx2.Response:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://exporter") as http:
                return await http.get(
                    "/probe?target=silent", headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"}
                )

        answer = _LOOP.run_until_complete(scrape())
    assert answer.status_code == 200
    found = _parse(answer.text)
    assert found["threecx_up"][()] == 0
    assert found["threecx_api_errors_total"] == {(("status", "timeout"),): 1}
    assert probe_timeout("1.5") == 1.0 and probe_timeout("0.2") == 0.5
    assert probe_timeout(None) == probe_timeout("nan") == probe_timeout("-3") == DEFAULT_TIMEOUT - 0.5


def test_without_prometheus_client_the_command_names_the_extra() -> None:
    hide = "import sys; sys.modules['prometheus_client'] = None; from py3cx.cli.main import main; main()"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    taken = subprocess.run(
        [sys.executable, "-c", hide, "exporter", "--listen", "127.0.0.1:9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert taken.returncode == 2, taken.stderr
    assert "prometheus-client" in taken.stderr and "pip install 'py3cx[exporter]'" in taken.stderr
    assert "Traceback" not in taken.stderr


def test_a_pbx_that_refuses_the_api_is_down_with_403_counted(profiles: Path) -> None:
    # a PBX whose licence has no API access answers 403 (EmulatorConfig.licence_refusal="forbidden")
    with running_emulator(EmulatorConfig(seed=64, calls=5, clients=[OWNER], licence="PRO")) as pro:
        save_profile("pro", pro.url, OWNER.client_id, OWNER.secret)
        answer, again = _scrape(create_app(profile_source), "/probe?target=pro", "/probe?target=pro")
    assert answer.status_code == 200
    found = _parse(answer.text)
    assert found["threecx_up"][()] == 0
    # five of the probe's seven reads were refused, each counted before the probe answered
    assert found["threecx_api_errors_total"] == {(("status", "403"),): 5}
    assert _parse(again.text)["threecx_api_errors_total"] == {(("status", "403"),): 10}
    # what the PBX still lets it read says why: the licence has no API access
    assert found["threecx_license_api_access"][()] == 0
    assert next(iter(found["threecx_license_info"]))[0] == ("edition", "Professional")
    assert found["threecx_build_info"] and "threecx_extensions_total" in found
    assert "threecx_trunks_total" not in found and "threecx_queue_calls_waiting" not in found
    assert "threecx_calls_active" not in found


def test_a_rotated_secret_is_picked_up_without_a_restart(profiles: Path, emulator: RunningEmulator) -> None:
    save_profile("rotating", emulator.url, OWNER.client_id, "the-old-secret")
    app = create_app(profile_source)
    (refused,) = _scrape(app, "/probe?target=rotating")
    assert _parse(refused.text)["threecx_up"][()] == 0
    save_profile("rotating", emulator.url, OWNER.client_id, OWNER.secret)  # `3cx config set` elsewhere
    (accepted,) = _scrape(app, "/probe?target=rotating")
    found = _parse(accepted.text)
    assert found["threecx_up"][()] == 1
    # the counters outlive the rebuilt client: the refusal is still counted
    assert found["threecx_api_errors_total"][(("status", "401"),)] >= 1
    assert found["threecx_token_requests_total"][()] >= 2


def test_a_forgotten_client_closes_only_once_no_probe_uses_it(profiles: Path) -> None:
    exporter = create_app(profile_source).state.exporter

    async def go() -> None:
        first, second = await exporter.target("office"), await exporter.target("office")  # two probes at once
        assert first is second
        await exporter.release(first, forget=True)
        assert (await second.client.get("SystemStatus"))["Version"]  # the other probe still reads with it
        await exporter.release(second)
        third = await exporter.target("office")
        assert third is not first and third.counters is first.counters  # rebuilt, same counters
        with pytest.raises(Exception, match="closed"):
            await first.client.get("SystemStatus")  # closed once the last probe let go
        await exporter.release(third)

    _LOOP.run_until_complete(go())
