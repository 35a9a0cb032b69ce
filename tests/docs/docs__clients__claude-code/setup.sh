# docs/clients/claude-code.md: keyward set up, and ~/.claude.json with a
# server that has a key pasted into its env. The server is
# server-everything from tests/node (on PATH), so that `claude mcp list`
# can start it without fetching anything.
keyward init >/dev/null 2>&1
cat > "$HOME/.claude.json" <<'JSON'
{
  "mcpServers": {
    "everything": { "command": "mcp-server-everything", "env": { "EVERYTHING_API_KEY": "kw_canary_ClaudeCodeA1b2C3d4E5f6G7h8" } }
  }
}
JSON
