"""The MCP tool (plue_db.mcp): its stdio server, the read-only executor, privileges, memory."""
