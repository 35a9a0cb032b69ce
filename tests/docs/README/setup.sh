# The README's quick start: a Claude Desktop config with a token pasted in,
# for `keyward scan` and `keyward import` to find.
mkdir -p "$HOME/.config/Claude"
cat > "$HOME/.config/Claude/claude_desktop_config.json" <<'JSON'
{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_kwCanaryPlantedA1b2C3d4E5f6G7h8I9j0K1" }
    }
  }
}
JSON
