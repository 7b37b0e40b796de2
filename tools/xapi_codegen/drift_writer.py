"""Writes ``_generated/drift.py``: the tables ``py3cx.xapi._drift`` decides with."""

from __future__ import annotations

import json

from xapi_codegen.spec_drift import SpecDrift
from xapi_codegen.text_blocks import file_header


def _q(text: str) -> str:
    """A double-quoted Python string literal (the quotes ruff format writes)."""
    return json.dumps(text)


def write_drift(
    drift: SpecDrift,
    *,
    sha256: str,
    spec_file: str,
    legacy_sha256: str,
    legacy_file: str,
    current_build: tuple[int, ...],
    legacy_build: tuple[int, ...],
) -> str:
    """The text of ``drift.py`` (deterministic: every table sorted)."""
    out = [
        file_header(
            sha256,
            spec_file,
            f"What differs between 3CX {'.'.join(map(str, current_build))} and "
            f"{'.'.join(map(str, legacy_build))}, for the operations of the newest spec.\n\n"
            f"The older spec is {legacy_file} (sha256 {legacy_sha256}).",
        ),
        "from __future__ import annotations",
        "",
        f"CURRENT_BUILD: tuple[int, ...] = {current_build!r}",
        f"LEGACY_BUILD: tuple[int, ...] = {legacy_build!r}",
        f'LEGACY_SPEC_SHA256 = "{legacy_sha256}"',
        "",
        "# Every operation whose method asks the PBX's build: its path in the newest spec.",
        "CURRENT_PATHS: dict[str, str] = {",
        *[f"    {_q(key)}: {_q(drift.current_paths[key])}," for key in sorted(drift.current_paths)],
        "}",
        "",
        "# Operations with another form on the older build: that form's path.",
        "LEGACY_PATHS: dict[str, str] = {",
        *[f"    {_q(key)}: {_q(drift.changed[key].operation.path)}," for key in sorted(drift.changed)],
        "}",
        "",
        "# Operations the older build does not have.",
        "ADDED_SINCE_LEGACY: frozenset[str] = frozenset(",
        "    {",
        *[f"        {_q(key)}," for key in sorted(drift.added)],
        "    }",
        ")",
        "",
        "# Actions whose body gained fields: the fields the older build takes.",
        "LEGACY_BODY_FIELDS: dict[str, frozenset[str]] = {",
        *[
            f"    {_q(key)}: frozenset({json.dumps(sorted(drift.body_fields[key]))}),"
            for key in sorted(drift.body_fields)
        ],
        "}",
        "",
        "# Operations of the older build that the newest spec no longer has (no typed method).",
        "REMOVED_SINCE_LEGACY: dict[str, str] = {",
        *[f"    {_q(key)}: {_q(drift.removed[key])}," for key in sorted(drift.removed)],
        "}",
    ]
    return "\n".join(out) + "\n"
