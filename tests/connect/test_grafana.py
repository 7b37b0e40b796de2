"""The Grafana dashboard of docs/grafana: every query runs against a synced PostgreSQL database
and the call panels return rows. Grafana's macros are expanded the way its PostgreSQL data
source expands them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from py3cx.connect.db import Database, open_database
from py3cx.connect.vault import Vault
from py3cx.emulator import EmulatorConfig, running_emulator

from .conftest import new_database_url
from .test_sync import add, run_pass

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "py3cx-connect.json"


@pytest.fixture
def synced(tmp_path: Path, vault: Vault) -> Iterator[Database]:
    for url in new_database_url("postgresql", tmp_path):
        db = open_database(url)
        with running_emulator(EmulatorConfig(seed=51, calls=300)) as emu:
            pbx = add(db, vault, emu)
            assert run_pass(db, vault, pbx, "directory").ok
            assert run_pass(db, vault, pbx, since=datetime.now(timezone.utc) - timedelta(days=100)).ok
        yield db
        db.dispose()


def expand(sql: str, start: datetime, end: datetime, pbxs: list[str]) -> str:
    """Grafana's PostgreSQL macros, for the ones the dashboard uses."""
    window = f"'{start.isoformat()}' AND '{end.isoformat()}'"
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN {window}", sql)

    def group(match: re.Match[str]) -> str:
        column, interval = match.group(1), match.group(2).strip()
        seconds = {"1d": 86400, "1h": 3600}[interval]
        return f'to_timestamp(floor(extract(epoch FROM {column}) / {seconds}) * {seconds}) AS "time"'

    sql = re.sub(r"\$__timeGroupAlias\(([^,]+),([^)]+)\)", group, sql)
    sql = sql.replace("$pbx", ", ".join("'" + name.replace("'", "''") + "'" for name in pbxs))
    assert "$" not in sql, sql
    return sql


def _queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["rawSql"]) for panel in dashboard["panels"] for target in panel["targets"]
    ]


def test_the_dashboard_has_the_five_views_and_a_pbx_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for view in ("calls per day", "answered", "busiest hours", "queue waits", "talk time per agent"):
        assert view in titles
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["pbx"]
    assert dashboard["__inputs"][0]["pluginId"] == "grafana-postgresql-datasource"


def test_every_query_of_the_dashboard_runs_on_a_synced_database(synced: Database) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=100)
    with synced.engine.connect() as conn:
        names = [row[0] for row in conn.execute(sa.text(dashboard["templating"]["list"][0]["query"]))]
        assert names == ["office"]
        for title, sql in _queries(dashboard):
            rows = conn.execute(sa.text(expand(sql, start, end, names))).all()
            assert rows, f"{title}: no rows"
        # and a period without calls gives no rows, not an error
        empty = expand(
            _queries(dashboard)[0][1], start - timedelta(days=900), start - timedelta(days=800), names
        )
        assert conn.execute(sa.text(empty)).all() == []
