"""Real-shaped MCP client configs with planted secrets, for scan and import tests.

    from client_fixtures import build_fixtures, build_dotfiles

    fx = build_fixtures(home, project)   # a fake HOME (Linux layout) and a project dir
    fx.planted   # [Planted(file, path, value, rule, raw, line, client)]: must be found
    fx.decoys    # [Decoy(file, path, value)]: must not be found
    fx.files     # every file written, in the order of `keyward scan`'s known locations

Every client keyward knows gets its real file at its real place (Claude
Desktop, Claude Code's ~/.claude.json and the project's .mcp.json, Cursor
user and project, VS Code mcp.json and settings.json (JSONC: comments,
trailing commas), Windsurf, Zed (JSONC), Codex (TOML), Gemini CLI), with
secrets in the providers' real formats, generated at random on each call:
GitHub classic and fine-grained PATs, Stripe live/test/restricted keys, a
Slack bot token and webhook, an AWS access key id and secret access key,
OpenAI `sk-proj-` and Anthropic `sk-ant-` keys, a JWT, a Postgres URL with a
password (as an argument), a remote server with `Authorization: Bearer …`,
and a generic key after `--api-key`. Decoys sit beside them: placeholders
(`ghp_your_token_here`, `sk_test_...`), interpolations (`${GITHUB_TOKEN}`,
`${input:x}`, `$API_KEY`), references (`keyward://x`), empty strings,
ordinary arguments and paths, a high-entropy `userID`.

`Planted.path` is written the way `keyward scan` reports it: keys joined
by dots, `[i]` for array items, keys that are not plain words quoted as JSON
strings (`projects."/tmp/p".mcpServers`). `value` is the secret itself (for
headers without the `Bearer ` scheme); `raw` is the whole string at `path`.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

B62 = string.ascii_letters + string.digits
URLSAFE = B62 + "_-"
B64 = B62 + "+/"
UPPER32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Planted:
    file: Path
    path: str
    value: str
    rule: str
    raw: str
    line: int
    client: str | None


@dataclass(frozen=True)
class Decoy:
    file: Path
    path: str
    value: str


@dataclass
class Fixtures:
    home: Path
    project: Path
    planted: list[Planted] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def secrets(self) -> list[str]:
        """Every planted secret value (for leak greps)."""
        return [p.value for p in self.planted]


# === tokens in their real formats ===


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if n else 0.0


def _looks_random(s: str, min_entropy: float = 0.0) -> bool:
    """What keyward's decoy checks would reject (a run of 5, an ascending
    run of 6, `xxxx`, placeholder words, low entropy) happens about once in
    a million random tokens: regenerate rather than flake."""
    if re.search(r"(.)\1{4}", s) or "xxxx" in s or "XXXX" in s:
        return False
    low = s.lower()
    if any(w in low for w in ("example", "sample", "placeholder", "dummy", "your", "here", "...")):
        return False
    run = 1
    for a, b in zip(s, s[1:]):
        run = run + 1 if a.isalnum() and ord(b) == ord(a) + 1 else 1
        if run >= 6:
            return False
    return _entropy(s) >= min_entropy


def rand(charset: str, n: int) -> str:
    while True:
        s = "".join(secrets.choice(charset) for _ in range(n))
        if _looks_random(s):
            return s


def _token(make) -> str:
    """A token from `make()` whose whole text also passes (entropy included)."""
    while True:
        tok = make()
        if _looks_random(tok, 3.3):
            return tok


def github_pat() -> str:
    return _token(lambda: "ghp_" + rand(B62, 36))


def github_fine_grained_pat() -> str:
    return _token(lambda: "github_pat_" + rand(B62, 22) + "_" + rand(B62, 59))


def stripe_live_secret() -> str:
    return _token(lambda: "sk_live_51" + rand(B62, 97))


def stripe_test_secret() -> str:
    return _token(lambda: "sk_test_51" + rand(B62, 97))


def stripe_restricted() -> str:
    return _token(lambda: "rk_live_51" + rand(B62, 97))


def slack_bot_token() -> str:
    return _token(lambda: f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(B62, 24)}")


def slack_webhook() -> str:
    return _token(lambda: f"https://hooks.slack.com/services/T{rand(UPPER32, 8)}/B{rand(UPPER32, 10)}/{rand(B62, 24)}")


def aws_access_key_id() -> str:
    return _token(lambda: "AKIA" + rand(UPPER32, 16))


def aws_secret_access_key() -> str:
    return _token(lambda: rand(B64, 40))


def openai_project_key() -> str:
    return _token(lambda: "sk-proj-" + rand(URLSAFE, 74) + "T3BlbkFJ" + rand(URLSAFE, 74))


def anthropic_key() -> str:
    return _token(lambda: "sk-ant-api03-" + rand(URLSAFE, 93) + "AA")


def jwt() -> str:
    def b64url(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    while True:
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": rand(HEX, 16), "scope": "mcp"}).encode())
        tok = f"{head}.{body}.{rand(URLSAFE, 43)}"
        if _looks_random(tok, 3.3):
            return tok


def generic_key(n: int = 40) -> str:
    return _token(lambda: rand(B62, n))


# === paths as keyward prints them ===

_BARE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def dotted(*parts: str | int) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
            continue
        if out:
            out += "."
        out += p if _BARE.match(p) else json.dumps(p, ensure_ascii=False)
    return out


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# === the files ===


class _Writer:
    def __init__(self, fx: Fixtures):
        self.fx = fx

    def write(self, path: Path, text: str, client: str | None, planted, decoys=()) -> None:
        """`planted`: [(path parts, secret, rule, raw)]; `decoys`: [(path parts, value)]."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.fx.files.append(path)
        for parts, value, rule, raw in planted:
            assert value in text, (path, parts)
            self.fx.planted.append(
                Planted(path, dotted(*parts), value, rule, raw, _line_of(text, value), client)
            )
        for parts, value in decoys:
            self.fx.decoys.append(Decoy(path, dotted(*parts), value))


def _json(obj) -> str:
    return json.dumps(obj, indent=2) + "\n"


def build_fixtures(home: Path, project: Path) -> Fixtures:
    """Writes every client's config under `home` (Linux layout, no
    XDG_CONFIG_HOME) and the project's files under `project`. Returns what
    was planted. Call it with fresh directories."""
    home, project = Path(home), Path(project)
    fx = Fixtures(home=home, project=project)
    w = _Writer(fx)

    # --- Claude Desktop ---
    gh1, db_pw = github_pat(), generic_key(20)
    db_url = f"postgresql://app:{db_pw}@db.internal.test:5432/app"
    f = home / ".config" / "Claude" / "claude_desktop_config.json"
    cfg = {
        "mcpServers": {
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": gh1},
            },
            "postgres": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-postgres", db_url],
            },
            "filesystem": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects", "/tmp"],
            },
            "github-readme": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_your_token_here"},
            },
        },
        "globalShortcut": "Ctrl+Space",
    }
    w.write(
        f,
        _json(cfg),
        "claude-desktop",
        [
            (("mcpServers", "github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"), gh1, "github-pat", gh1),
            (("mcpServers", "postgres", "args", 2), db_url, "database-url-password", db_url),
        ],
        [
            (("mcpServers", "github-readme", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"), "ghp_your_token_here"),
            (("mcpServers", "filesystem", "args", 2), "/home/me/projects"),
        ],
    )

    # --- Claude Code: ~/.claude.json (top level and per project) ---
    sk_live, xoxb = stripe_live_secret(), slack_bot_token()
    user_id = rand(HEX, 64)
    f = home / ".claude.json"
    cfg = {
        "numStartups": 42,
        "installMethod": "npm-global",
        "autoUpdates": True,
        "userID": user_id,
        "mcpServers": {
            "stripe": {
                "type": "stdio",
                "command": "npx",
                "args": ["-y", "@stripe/mcp", "--tools=all"],
                "env": {"STRIPE_SECRET_KEY": sk_live},
            }
        },
        "projects": {
            str(project): {
                "allowedTools": [],
                "mcpServers": {
                    "slack": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-slack"],
                        "env": {"SLACK_BOT_TOKEN": xoxb, "SLACK_TEAM_ID": "T01ABCD2EFG"},
                    }
                },
                "hasTrustDialogAccepted": True,
            }
        },
    }
    w.write(
        f,
        _json(cfg),
        "claude-code",
        [
            (("mcpServers", "stripe", "env", "STRIPE_SECRET_KEY"), sk_live, "stripe-live-secret-key", sk_live),
            (
                ("projects", str(project), "mcpServers", "slack", "env", "SLACK_BOT_TOKEN"),
                xoxb,
                "slack-bot-token",
                xoxb,
            ),
        ],
        [(("userID",), user_id), (("mcpServers", "stripe", "args", 2), "--tools=all")],
    )

    # --- Cursor (user) ---
    akia, aws_secret = aws_access_key_id(), aws_secret_access_key()
    f = home / ".cursor" / "mcp.json"
    cfg = {
        "mcpServers": {
            "aws": {
                "command": "uvx",
                "args": ["awslabs.aws-api-mcp-server@latest"],
                "env": {
                    "AWS_ACCESS_KEY_ID": akia,
                    "AWS_SECRET_ACCESS_KEY": aws_secret,
                    "AWS_REGION": "eu-west-1",
                },
            }
        }
    }
    w.write(
        f,
        _json(cfg),
        "cursor",
        [
            (("mcpServers", "aws", "env", "AWS_ACCESS_KEY_ID"), akia, "aws-access-key-id", akia),
            (("mcpServers", "aws", "env", "AWS_SECRET_ACCESS_KEY"), aws_secret, "aws-secret-access-key", aws_secret),
        ],
        [(("mcpServers", "aws", "env", "AWS_REGION"), "eu-west-1")],
    )

    # --- VS Code user mcp.json (`servers`, `inputs`; JSONC) ---
    openai = openai_project_key()
    f = home / ".config" / "Code" / "User" / "mcp.json"
    text = f"""{{
  // User-level MCP servers
  "inputs": [
    {{ "type": "promptString", "id": "openai-key", "description": "OpenAI API key", "password": true }}
  ],
  "servers": {{
    "openai": {{
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "openai-mcp"],
      "env": {{ "OPENAI_API_KEY": "{openai}" }}
    }},
    "openai-prompted": {{
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "openai-mcp"],
      "env": {{ "OPENAI_API_KEY": "${{input:openai-key}}" }},
    }},
  }},
}}
"""
    w.write(
        f,
        text,
        "vscode",
        [(("servers", "openai", "env", "OPENAI_API_KEY"), openai, "openai-api-key", openai)],
        [(("servers", "openai-prompted", "env", "OPENAI_API_KEY"), "${input:openai-key}")],
    )

    # --- VS Code user settings.json (`mcp.servers`; comments, trailing commas) ---
    search_key = _token(lambda: rand(HEX, 32))
    f = home / ".config" / "Code" / "User" / "settings.json"
    text = f"""// VS Code user settings
{{
  "editor.fontSize": 14,
  "workbench.colorTheme": "Default Dark Modern",
  "files.exclude": {{ "**/.git": true, }},
  /* MCP servers, the older place for them */
  "mcp": {{
    "servers": {{
      "search": {{
        "command": "search-mcp",
        "args": ["--api-key", "{search_key}", "--verbose",], // trailing comma
        "env": {{ "SEARCH_TOKEN": "$SEARCH_TOKEN", }},
      }},
    }},
  }},
}}
"""
    w.write(
        f,
        text,
        "vscode",
        [(("mcp", "servers", "search", "args", 1), search_key, "generic-secret", search_key)],
        [
            (("mcp", "servers", "search", "env", "SEARCH_TOKEN"), "$SEARCH_TOKEN"),
            (("workbench.colorTheme",), "Default Dark Modern"),
        ],
    )

    # --- Windsurf ---
    fine = github_fine_grained_pat()
    f = home / ".codeium" / "windsurf" / "mcp_config.json"
    cfg = {
        "mcpServers": {
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": fine},
            },
            "remote-docs": {"serverUrl": "https://mcp.docs.test/sse"},
        }
    }
    w.write(
        f,
        _json(cfg),
        "windsurf",
        [
            (
                ("mcpServers", "github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"),
                fine,
                "github-fine-grained-pat",
                fine,
            )
        ],
    )

    # --- Zed (context_servers; JSONC; older nested `command`) ---
    ant, hook = anthropic_key(), slack_webhook()
    f = home / ".config" / "zed" / "settings.json"
    text = f"""// Zed settings
{{
  "theme": "One Dark",
  "buffer_font_size": 15,
  "context_servers": {{
    "anthropic-tools": {{
      "command": {{
        "path": "npx",
        "args": ["-y", "anthropic-mcp"],
        "env": {{ "ANTHROPIC_API_KEY": "{ant}" }},
      }},
      "settings": {{}},
    }},
    "notify": {{
      "command": "notify-mcp",
      "args": [],
      "env": {{ "SLACK_WEBHOOK_URL": "{hook}" }},
    }},
  }},
}}
"""
    w.write(
        f,
        text,
        "zed",
        [
            (
                ("context_servers", "anthropic-tools", "command", "env", "ANTHROPIC_API_KEY"),
                ant,
                "anthropic-api-key",
                ant,
            ),
            (("context_servers", "notify", "env", "SLACK_WEBHOOK_URL"), hook, "slack-webhook-url", hook),
        ],
    )

    # --- Codex (TOML) ---
    gh2, rk = github_pat(), stripe_restricted()
    f = home / ".codex" / "config.toml"
    text = f"""model = "o3"
approval_policy = "on-request"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env = {{ GITHUB_PERSONAL_ACCESS_TOKEN = "{gh2}" }}

[mcp_servers.stripe]
command = "npx"
args = ["-y", "@stripe/mcp", "--tools=all", "--api-key={rk}"]

[mcp_servers.docs]
command = "docs-mcp"

[mcp_servers.docs.env]
DOCS_TOKEN = "${{DOCS_TOKEN}}"
DOCS_URL = "https://docs.test/api"
"""
    w.write(
        f,
        text,
        "codex",
        [
            (("mcp_servers", "github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"), gh2, "github-pat", gh2),
            (("mcp_servers", "stripe", "args", 3), rk, "stripe-restricted-key", f"--api-key={rk}"),
        ],
        [(("mcp_servers", "docs", "env", "DOCS_TOKEN"), "${DOCS_TOKEN}")],
    )

    # --- Gemini CLI ---
    token = jwt()
    f = home / ".gemini" / "settings.json"
    cfg = {
        "theme": "Default",
        "mcpServers": {
            "remote": {
                "httpUrl": "https://mcp.internal.test/mcp",
                "headers": {"Authorization": f"Bearer {token}"},
                "timeout": 30000,
            },
            "local": {
                "command": "python",
                "args": ["-m", "my_mcp_server"],
                "env": {"API_KEY": "$MY_API_TOKEN"},
                "cwd": "./mcp-servers/python",
            },
        },
    }
    w.write(
        f,
        _json(cfg),
        "gemini",
        [(("mcpServers", "remote", "headers", "Authorization"), token, "jwt", f"Bearer {token}")],
        [(("mcpServers", "local", "env", "API_KEY"), "$MY_API_TOKEN")],
    )

    # --- the project: .mcp.json (Claude Code) ---
    bearer = generic_key(40)
    f = project / ".mcp.json"
    cfg = {
        "mcpServers": {
            "remote-api": {
                "type": "http",
                "url": "https://mcp.internal.test/mcp",
                "headers": {"Authorization": f"Bearer {bearer}"},
            },
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN}"},
            },
            "docs": {
                "type": "sse",
                "url": "https://docs.internal.test/sse",
                "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"},
            },
        }
    }
    w.write(
        f,
        _json(cfg),
        "claude-code",
        [
            (
                ("mcpServers", "remote-api", "headers", "Authorization"),
                bearer,
                "authorization-header",
                f"Bearer {bearer}",
            )
        ],
        [
            (("mcpServers", "github", "env", "GITHUB_PERSONAL_ACCESS_TOKEN"), "${GITHUB_TOKEN}"),
            (("mcpServers", "docs", "headers", "Authorization"), "Bearer ${DOCS_TOKEN}"),
        ],
    )

    # --- the project: .vscode/mcp.json ---
    sk_test = stripe_test_secret()
    f = project / ".vscode" / "mcp.json"
    text = f"""{{
  "servers": {{
    // Stripe in test mode
    "stripe-test": {{
      "command": "npx",
      "args": ["-y", "@stripe/mcp", "--tools=all"],
      "env": {{ "STRIPE_SECRET_KEY": "{sk_test}" }},
    }},
    "stripe-readme": {{
      "command": "npx",
      "env": {{ "STRIPE_SECRET_KEY": "sk_test_..." }},
    }},
  }},
}}
"""
    w.write(
        f,
        text,
        "vscode",
        [(("servers", "stripe-test", "env", "STRIPE_SECRET_KEY"), sk_test, "stripe-test-secret-key", sk_test)],
        [(("servers", "stripe-readme", "env", "STRIPE_SECRET_KEY"), "sk_test_...")],
    )

    # --- the project: .cursor/mcp.json (decoys only) ---
    f = project / ".cursor" / "mcp.json"
    cfg = {
        "mcpServers": {
            "linear": {
                "command": "npx",
                "args": ["-y", "mcp-remote", "https://mcp.linear.app/sse"],
                "env": {"LINEAR_API_KEY": "keyward://linear_api_key"},
            },
            "empty": {"command": "node", "args": ["server.js"], "env": {"API_KEY": ""}},
            "docs": {"command": "docs", "env": {"DOCS_TOKEN": "<YOUR_TOKEN>", "DB": "postgres://localhost/app"}},
        }
    }
    w.write(
        f,
        _json(cfg),
        "cursor",
        [],
        [
            (("mcpServers", "linear", "env", "LINEAR_API_KEY"), "keyward://linear_api_key"),
            (("mcpServers", "empty", "env", "API_KEY"), ""),
            (("mcpServers", "docs", "env", "DOCS_TOKEN"), "<YOUR_TOKEN>"),
            (("mcpServers", "docs", "env", "DB"), "postgres://localhost/app"),
        ],
    )
    return fx


def build_dotfiles(directory: Path) -> Fixtures:
    """A `.env` and a `.bashrc` in `directory`, with planted secrets, a
    commented-out token (comments are not read) and decoys; also a
    `node_modules/pkg/.env` with a token that a directory scan must skip.
    `planted` lists only what `keyward scan DIRECTORY` must report."""
    d = Path(directory)
    fx = Fixtures(home=d, project=d)
    w = _Writer(fx)

    sk, openai, pw = stripe_live_secret(), openai_project_key(), generic_key(18)
    commented = github_pat()
    db = f"postgres://app:{pw}@localhost:5432/app"
    text = f"""# Local development settings
NODE_ENV=development
export STRIPE_SECRET_KEY="{sk}"
OPENAI_API_KEY={openai}   # from the dashboard
DATABASE_URL='{db}'
REDIS_URL=redis://localhost:6379/0
# GITHUB_TOKEN={commented}
API_KEY=changeme
"""
    w.write(
        d / ".env",
        text,
        None,
        [
            (("STRIPE_SECRET_KEY",), sk, "stripe-live-secret-key", sk),
            (("OPENAI_API_KEY",), openai, "openai-api-key", openai),
            (("DATABASE_URL",), db, "database-url-password", db),
        ],
        [(("GITHUB_TOKEN",), commented), (("API_KEY",), "changeme"), (("REDIS_URL",), "redis://localhost:6379/0")],
    )

    gh = github_pat()
    text = f"""# ~/.bashrc: executed by bash(1) for non-login shells.
[ -z "$PS1" ] && return
export PATH="$HOME/bin:$PATH"
alias ll='ls -alF'
export EDITOR=vim
export HISTSIZE=10000
export GITHUB_TOKEN={gh}
export AWS_SECRET_ACCESS_KEY="${{AWS_SECRET}}"
if [ -f ~/.bash_aliases ]; then
    . ~/.bash_aliases
fi
"""
    w.write(
        d / ".bashrc",
        text,
        None,
        [(("GITHUB_TOKEN",), gh, "github-pat", gh)],
        [(("AWS_SECRET_ACCESS_KEY",), "${AWS_SECRET}"), (("PATH",), "$HOME/bin:$PATH")],
    )

    hidden = github_pat()
    nm = d / "node_modules" / "pkg" / ".env"
    nm.parent.mkdir(parents=True, exist_ok=True)
    nm.write_text(f"GITHUB_TOKEN={hidden}\n")
    fx.decoys.append(Decoy(nm, "GITHUB_TOKEN", hidden))
    return fx
