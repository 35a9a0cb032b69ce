# tests/docs/plant-client.sh CLIENT: the client's config (its Linux place)
# with a GitHub token pasted into a server's env, as the docs/clients/
# pages start from.
set -euo pipefail
tok=ghp_kwCanaryClientA1b2C3d4E5f6G7h8I9j0Q7w6
json_entry='"github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "'$tok'" } }'
case "$1" in
  claude-desktop) mkdir -p ~/.config/Claude; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.config/Claude/claude_desktop_config.json ;;
  claude-code) printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.claude.json ;;
  cursor) mkdir -p ~/.cursor; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.cursor/mcp.json ;;
  vscode) mkdir -p ~/.config/Code/User; printf '{\n  // VS Code keeps comments\n  "servers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.config/Code/User/mcp.json ;;
  windsurf) mkdir -p ~/.codeium/windsurf; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.codeium/windsurf/mcp_config.json ;;
  zed) mkdir -p ~/.config/zed; printf '{\n  "context_servers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.config/zed/settings.json ;;
  codex) mkdir -p ~/.codex; printf '[mcp_servers.github]\ncommand = "npx"\nargs = ["-y", "@modelcontextprotocol/server-github"]\nenv = { GITHUB_PERSONAL_ACCESS_TOKEN = "%s" }\n' "$tok" > ~/.codex/config.toml ;;
  gemini) mkdir -p ~/.gemini; printf '{\n  "mcpServers": {\n    %s\n  }\n}\n' "$json_entry" > ~/.gemini/settings.json ;;
esac
