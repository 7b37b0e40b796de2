"""`3cx mcp serve`: an MCP server for AI agents over a 3CX PBX, safe by default (docs/mcp.md).

The package is named ``mcpserver`` so that ``import mcp`` stays the official SDK.
"""

from __future__ import annotations

from py3cx._extras import require

require("mcp", what="the py3cx MCP server")

from py3cx.mcpserver.server import READ_TOOLS, WRITE_TOOLS, Audit, ClientProvider, build_server  # noqa: E402

__all__ = ["READ_TOOLS", "WRITE_TOOLS", "Audit", "ClientProvider", "build_server"]
