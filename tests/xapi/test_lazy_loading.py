"""``import py3cx`` stays light: the typed XAPI, pydantic and the models load only when used."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(code: str) -> dict[str, int]:
    """Run ``code`` in a fresh interpreter; count what it loaded."""
    probe = (
        f"{code}\n"
        "import json, sys\n"
        "names = list(sys.modules)\n"
        "print(json.dumps({\n"
        "  'pydantic': int('pydantic' in sys.modules),\n"
        "  'resources': sum(n.startswith('py3cx.xapi._generated.resources.') for n in names),\n"
        "  'schemas': sum(n.startswith('py3cx.xapi._generated.schemas.') for n in names),\n"
        "}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    counts: dict[str, int] = json.loads(result.stdout.strip().splitlines()[-1])
    return counts


def test_importing_py3cx_and_its_xapi_loads_no_resource_no_model_and_no_pydantic() -> None:
    assert loaded_after("import py3cx, py3cx.xapi\nfrom py3cx.xapi import XAPI\nXAPI(None)") == {
        "pydantic": 0,
        "resources": 0,
        "schemas": 0,
    }


def test_the_first_resource_loads_only_the_models_it_uses() -> None:
    counts = loaded_after("from py3cx.xapi import XAPI\nXAPI(None).active_calls")
    assert counts["resources"] == 1
    # ActiveCall and its collection page, the IActionResult of DropCall, the enums: not 484 modules.
    assert 1 <= counts["schemas"] <= 6


def test_importing_py3cx_xapi_models_loads_every_model() -> None:
    # 482 model modules (one per model; OAuthClient and RefreshToken share one) and the enums.
    assert loaded_after("import py3cx.xapi.models")["schemas"] == 483
