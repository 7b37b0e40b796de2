"""Reading an XAPI OpenAPI file exactly as written.

PyYAML follows YAML 1.1, where ``No``, ``Off`` and ``Yes`` are booleans and ``2025-01-01`` is a
date: the enum ``Pbx.AuthenticationType`` would lose its member ``No``. The loader here keeps
YAML 1.2's core rules instead: only ``true``/``false`` are booleans, and dates stay text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 booleans and without timestamps."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class LoadedSpec:
    """One OpenAPI document with where it came from."""

    document: dict[str, Any]
    sha256: str
    file_name: str


def parse_spec_text(text: str | bytes) -> dict[str, Any]:
    """Parse OpenAPI YAML text with YAML 1.2 booleans (``No`` stays a string).

    Example: ``parse_spec_text("enum: [No, Basic]")["enum"] == ["No", "Basic"]``.
    """
    document = yaml.load(text, Loader=_SpecLoader)
    if not isinstance(document, dict):
        raise ValueError("not an OpenAPI document: the top level is not a mapping")
    return document


def load_spec(path: Path) -> LoadedSpec:
    """Read and parse the OpenAPI file at ``path``, with the sha256 of its bytes.

    Raises OSError when the file cannot be read, ValueError when it is not an OpenAPI mapping.
    Example: ``load_spec(Path("../shared/spec/xapi-swagger.yaml")).sha256``.
    """
    data = path.read_bytes()
    return LoadedSpec(parse_spec_text(data), hashlib.sha256(data).hexdigest(), path.name)
