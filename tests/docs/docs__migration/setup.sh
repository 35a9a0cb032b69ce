# docs/migration.md: a Cursor config with a token pasted in, and a project
# .env file with a Stripe key.
keyward init >/dev/null 2>&1
mkdir -p "$HOME/.cursor" "$HOME/work"
cat > "$HOME/.cursor/mcp.json" <<'JSON'
{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_kwCanaryCursorA1b2C3d4E5f6G7h8I9j0X9y8" }
    }
  }
}
JSON
printf 'STRIPE_API_KEY=sk_live_51kwCanaryEnvFileQ0w9E8r7T6y5U4i3O2p1A0sDfGhJkL\n' > "$HOME/work/.env"
# ... and a project whose server takes its database URL, password and all,
# as an argument (as server-postgres is configured).
mkdir -p "$HOME/work/shop"
cat > "$HOME/work/shop/.mcp.json" <<'JSON'
{
  "mcpServers": {
    "postgres": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://shop:kwCanaryPgPassw0rd9@db.internal:5432/shop"]
    }
  }
}
JSON
