"""Front ends for AI agents that are not the CLI (the MCP server)."""
