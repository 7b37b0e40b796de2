"""The XAPI code generator: reads the official OpenAPI file, writes ``src/py3cx/xapi/_generated/``.

Run it with ``python tools/generate_xapi.py``. The modules here are pure (text in, text out) apart
from :mod:`xapi_codegen.spec_loader`, which reads the YAML file.
"""
