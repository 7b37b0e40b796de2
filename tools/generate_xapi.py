"""Generate the typed XAPI layer from the official OpenAPI file.

    python tools/generate_xapi.py            # write src/py3cx/xapi/_generated/ and docs/reference/xapi.md
    python tools/generate_xapi.py --check    # exit 1 if the committed output is not what the spec gives

Reads ``../shared/spec/xapi-swagger.yaml`` (the newest spec, 20.0.10) and the 20.0.4 spec next to
it for the version-drift tables. Deterministic: the same specs always give the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from xapi_codegen.drift_writer import write_drift  # noqa: E402
from xapi_codegen.models_writer import ModelsWriter  # noqa: E402
from xapi_codegen.operations import OperationReader  # noqa: E402
from xapi_codegen.reference_writer import write_reference  # noqa: E402
from xapi_codegen.resources_writer import write_facade, write_resource  # noqa: E402
from xapi_codegen.spec_drift import compare  # noqa: E402
from xapi_codegen.spec_loader import load_spec  # noqa: E402
from xapi_codegen.text_blocks import file_header  # noqa: E402

DEFAULT_SPEC = ROOT.parent / "shared" / "spec" / "xapi-swagger.yaml"
DEFAULT_LEGACY_SPEC = ROOT.parent / "shared" / "spec" / "xapi-swagger-20.0.4.yaml"
GENERATED = Path("src/py3cx/xapi/_generated")
SCHEMAS_PACKAGE = "py3cx.xapi._generated.schemas"
REFERENCE = Path("docs/reference/xapi.md")


def _build(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def generate(
    spec_path: Path,
    legacy_spec_path: Path,
    *,
    current_build: str = "20.0.10",
    legacy_build: str = "20.0.4",
) -> dict[Path, str]:
    """Every generated file, as {path relative to the repository root: text}.

    Raises OSError (a spec cannot be read) or ValueError (the spec has something the generator
    cannot express, named in the message).
    Example: ``generate(Path("../shared/spec/xapi-swagger.yaml"), Path(".../xapi-swagger-20.0.4.yaml"))``
    """
    spec = load_spec(spec_path)
    legacy = load_spec(legacy_spec_path)
    # Headers name the build, not the file: a byte-identical copy elsewhere gives the same output.
    spec_label = f"the 3CX {current_build} XAPI spec"
    legacy_label = f"the 3CX {legacy_build} XAPI spec"
    schemas = spec.document.get("components", {}).get("schemas", {})
    resources = OperationReader(spec.document).resources()
    drift = compare(spec.document, legacy.document)
    models = ModelsWriter(schemas, legacy.document.get("components", {}).get("schemas", {}))
    owners = models.module_of()
    files: dict[Path, str] = {
        GENERATED / "__init__.py": file_header(
            spec.sha256, spec_label, "Code generated from the XAPI spec: models, resources, drift tables."
        ),
        GENERATED / "models.py": models.write_index(SCHEMAS_PACKAGE, spec.sha256, spec_label),
        GENERATED / "facade.py": write_facade(resources, spec.sha256, spec_label),
        GENERATED / "drift.py": write_drift(
            drift,
            sha256=spec.sha256,
            spec_file=spec_label,
            legacy_sha256=legacy.sha256,
            legacy_file=legacy_label,
            current_build=_build(current_build),
            legacy_build=_build(legacy_build),
        ),
        GENERATED / "resources" / "__init__.py": file_header(
            spec.sha256, spec_label, "One module per XAPI resource (tag), each loaded on first use."
        ),
        REFERENCE: write_reference(resources, drift, spec.sha256, spec_label),
    }
    for module, text in models.write_all(SCHEMAS_PACKAGE, spec.sha256, spec_label).items():
        files[GENERATED / "schemas" / f"{module}.py"] = text
    for resource in resources:
        files[GENERATED / "resources" / f"{resource.module}.py"] = write_resource(
            resource, drift, spec.sha256, spec_label, owners, SCHEMAS_PACKAGE
        )
    return files


def stale_files(root: Path, files: dict[Path, str]) -> list[Path]:
    """Generated-looking files under ``_generated`` that the spec no longer produces."""
    base = root / GENERATED
    if not base.exists():
        return []
    return sorted(
        path.relative_to(root) for path in base.rglob("*.py") if path.relative_to(root) not in files
    )


def differences(root: Path, files: dict[Path, str]) -> list[str]:
    """What differs between ``files`` and the tree at ``root`` (missing, changed, stale files).

    Example: ``differences(ROOT, generate(DEFAULT_SPEC, DEFAULT_LEGACY_SPEC)) == []``
    """
    found = []
    for relative, text in sorted(files.items()):
        target = root / relative
        if not target.exists():
            found.append(f"missing: {relative}")
        elif target.read_text(encoding="utf-8") != text:
            found.append(f"changed: {relative}")
    found += [f"stale: {path}" for path in stale_files(root, files)]
    return found


def write(root: Path, files: dict[Path, str]) -> None:
    """Write ``files`` under ``root`` and delete stale generated modules."""
    for path in stale_files(root, files):
        (root / path).unlink()
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the newest XAPI OpenAPI file")
    parser.add_argument(
        "--legacy-spec", type=Path, default=DEFAULT_LEGACY_SPEC, help="the 20.0.4 OpenAPI file"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="where src/ and docs/ are (the repository)")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when something differs")
    args = parser.parse_args(argv)
    files = generate(args.spec, args.legacy_spec)
    if args.check:
        found = differences(args.root, files)
        for line in found:
            print(line)
        return 1 if found else 0
    write(args.root, files)
    print(f"wrote {len(files)} files under {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
