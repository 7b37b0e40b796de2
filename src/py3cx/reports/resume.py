"""The resume file of an export (``out.xlsx.resume.json``), rewritten after every page.

It says which report with which arguments is being exported (so that ``--resume`` refuses to
continue a different export), how many rows and bytes the part file holds, which keys beyond
the schema were seen, and the windows still to fetch with their progress. The part file is cut
back to the recorded size on resume, so a page written but not yet recorded is fetched again
rather than kept twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from py3cx._exceptions import ConfigError
from py3cx.reports.windows import Window

__all__ = ["STATE_VERSION", "ExportState", "part_path", "state_path"]

STATE_VERSION = 1


def part_path(output: Path) -> Path:
    """Where the rows of ``output`` accumulate while the export runs: ``out.csv.part``."""
    return output.with_name(output.name + ".part")


def state_path(output: Path) -> Path:
    """Where the resume state of ``output`` is kept: ``out.csv.resume.json``."""
    return output.with_name(output.name + ".resume.json")


@dataclass
class ExportState:
    """Everything needed to continue an interrupted export exactly where it stopped."""

    fingerprint: dict[str, Any]
    format: str
    rows: int = 0
    part_bytes: int = 0
    first_width: int | None = None
    extras: list[str] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    finalized: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "fingerprint": self.fingerprint,
            "format": self.format,
            "rows": self.rows,
            "part_bytes": self.part_bytes,
            "first_width": self.first_width,
            "extras": self.extras,
            "windows": [w.to_json() for w in self.windows],
            "finalized": self.finalized,
        }

    def save(self, path: Path) -> None:
        """Write the state atomically (a crash leaves the previous state, never half a file).

        Raises OSError.
        """
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> ExportState:
        """Read a state written by ``save``.

        Raises ConfigError when it is missing, damaged or from another version of py3cx.
        Example: ``ExportState.load(state_path(Path("out.csv")))``.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}")
            return cls(
                fingerprint=dict(data["fingerprint"]),
                format=str(data["format"]),
                rows=int(data["rows"]),
                part_bytes=int(data["part_bytes"]),
                first_width=data.get("first_width"),
                extras=list(data.get("extras", [])),
                windows=[Window.from_json(w) for w in data["windows"]],
                finalized=bool(data.get("finalized", False)),
            )
        except FileNotFoundError:
            raise ConfigError(
                f"nothing to resume: {path} does not exist",
                hint="run the same export without --resume to start it",
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"cannot resume from {path}: {exc}",
                hint="delete it and the .part file next to it, then start the export again",
            ) from None
