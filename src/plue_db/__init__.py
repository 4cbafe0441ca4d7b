"""plue-db runtime: embedded server, pools, migrations, drift check, CLI and MCP server."""
