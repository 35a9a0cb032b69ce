"""`keyward import` (issue 3): plaintext secrets in real-shaped client
configs move into the vault; the servers move behind keyward (wrap) or
start through `keyward run` (run); --dry-run, backups, --undo, running
twice. Then a real MCP client (the Python SDK) talks to the migrated setup
and the real upstream (server-everything from npm) still gets the value."""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path

import anyio
import pytest

from conftest import KEYWARD, PASSPHRASE, ROOT, text_of

EVERYTHING = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-everything"
B62 = string.ascii_letters + string.digits


def ghp() -> str:
    """A GitHub classic PAT in its real format, random per run."""
    return "ghp_" + "".join(secrets.choice(B62) for _ in range(36))


def stripe() -> str:
    return "sk_live_" + "".join(secrets.choice(B62) for _ in range(24))


def cursor_config(home, token: str, *, extra: str = "") -> Path:
    p = Path(home.env["HOME"]) / ".cursor" / "mcp.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "everything": {
                        "command": str(EVERYTHING),
                        "args": ["stdio"],
                        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": token, "LOG_LEVEL": "info"},
                    },
                    "time": {"command": "uvx", "args": ["mcp-server-time"]},
                }
            },
            indent=2,
        )
        + extra
    )
    return p


def leaks(home, *values: str) -> list[str]:
    """Files under HOME (client configs, keyward's home, backups) holding a value."""
    hits = []
    for f in Path(home.env["HOME"]).rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            hits += [f"{f}: {v[:6]}…" for v in values if v.encode() in data]
    return hits


def call_from_client_config(home, entry: dict, calls):
    """Starts the server exactly as the client config entry says (command,
    args, env) under the official MCP SDK client, with the vault key file
    a desktop would have in its keychain."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = dict(home.env, **entry.get("env", {}))
    params = StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=env)

    async def main():
        with open(home.stderr_log, "a") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy", read_timeout_seconds=30) as c:
                return await calls(c)

    return anyio.run(main)


@pytest.fixture(autouse=True)
def _needs_everything():
    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")


def test_wrap_moves_the_secret_and_the_client_still_works(home):
    token = ghp()
    cfg = cursor_config(home, token)
    # With the passphrase the import approves its own change to keyward.toml.
    p = home.run("import", "cursor", "--allow-all", env={"KEYWARD_PASSPHRASE": PASSPHRASE})
    assert "everything.GITHUB_PERSONAL_ACCESS_TOKEN" in p.stdout
    assert token not in p.stdout + p.stderr

    client = json.loads(cfg.read_text())["mcpServers"]
    assert set(client) == {"time", "keyward"}, client  # the plain server is left alone
    kw = client["keyward"]
    assert Path(kw["command"]).resolve() == Path(KEYWARD).resolve()
    # Issue 12, item 5: the client keeps to the servers it had.
    assert kw["args"] == ["serve", "--client", "cursor"]
    assert kw["env"] == {"KEYWARD_HOME": str(home.dir)}
    toml = (home.dir / "keyward.toml").read_text()
    assert 'GITHUB_PERSONAL_ACCESS_TOKEN = "keyward://everything.GITHUB_PERSONAL_ACCESS_TOKEN"' in toml
    assert 'LOG_LEVEL = "info"' in toml
    assert '"*" = "allow"' in toml
    assert "everything.GITHUB_PERSONAL_ACCESS_TOKEN" in home.run("secret", "list").stdout
    assert leaks(home, token) == [], "the token is still in clear somewhere"

    async def go(c):
        names = [t.name for t in (await c.list_tools()).tools]
        env = await c.call_tool("everything__get-env", {})
        return names, text_of(env)

    names, env_text = call_from_client_config(home, kw, go)
    assert "everything__echo" in names
    # The child got the secret (it is there, scrubbed) and the agent never saw it.
    assert '"GITHUB_PERSONAL_ACCESS_TOKEN": "[REDACTED]"' in env_text.replace("\\", ""), env_text[:400]
    assert token not in env_text
    assert token not in home.all_files_text()


def test_dry_run_prints_a_masked_diff_and_changes_nothing(home):
    token = ghp()
    cfg = cursor_config(home, token)
    before_cfg, before_toml = cfg.read_bytes(), (home.dir / "keyward.toml").read_bytes()
    p = home.run("import", "--dry-run", "cursor")
    assert cfg.read_bytes() == before_cfg
    assert (home.dir / "keyward.toml").read_bytes() == before_toml
    assert "everything.GITHUB_PERSONAL_ACCESS_TOKEN" not in home.run("secret", "list").stdout
    assert f"--- {cfg}" in p.stdout and "+    \"keyward\": {" in p.stdout, p.stdout
    assert "+[servers.everything]" in p.stdout, p.stdout
    assert "-        \"GITHUB_PERSONAL_ACCESS_TOKEN\": \"ghp_" in p.stdout, p.stdout  # masked preview
    assert token not in p.stdout + p.stderr
    assert token[4:-4] not in p.stdout + p.stderr
    assert not (home.dir / "imports").exists()


def test_second_run_changes_nothing(home):
    cfg = cursor_config(home, ghp())
    home.run("import", "cursor")
    after = cfg.read_bytes(), (home.dir / "keyward.toml").read_bytes()
    backups = sorted((home.dir / "imports").iterdir())
    p = home.run("import", "cursor")
    assert "nothing to import" in p.stdout
    assert (cfg.read_bytes(), (home.dir / "keyward.toml").read_bytes()) == after
    assert sorted((home.dir / "imports").iterdir()) == backups


def test_default_policy_is_confirm_and_says_so(home):
    cursor_config(home, ghp())
    p = home.run("import", "cursor")
    assert '"*" = "confirm"' in (home.dir / "keyward.toml").read_text()
    assert "each call waits for your answer" in p.stdout


def test_read_only_policy(home):
    cursor_config(home, ghp())
    home.run("import", "cursor", "--read-only")
    toml = (home.dir / "keyward.toml").read_text()
    assert '"get-*" = "allow"' in toml and '"list_*" = "allow"' in toml
    assert '"*" =' not in toml


def test_undo_restores_every_file_and_refuses_over_edits(home):
    token = ghp()
    cfg = cursor_config(home, token)
    originals = cfg.read_bytes(), (home.dir / "keyward.toml").read_bytes()
    home.run("import", "cursor")
    # Backups are sealed: the plaintext is nowhere under keyward's home.
    assert token not in home.all_files_text()

    cfg.write_text(cfg.read_text() + "\n")  # the user edits the file afterwards
    p = home.run("import", "--undo", check=False)
    assert p.returncode != 0 and "edited since the import" in p.stderr, p.stderr
    assert token.encode() not in cfg.read_bytes(), "a refused undo restored something"

    home.run("import", "--undo", "--force")
    assert (cfg.read_bytes(), (home.dir / "keyward.toml").read_bytes()) == originals
    assert "nothing to undo" in home.run("import", "--undo").stdout


def test_nothing_changes_when_the_vault_cannot_take_the_secrets(home):
    cfg = cursor_config(home, ghp())
    before = cfg.read_bytes()
    env = {"KEYWARD_VAULT_KEY_FILE": ""}  # no way to unlock
    p = home.run("import", "cursor", env=env, check=False)
    assert p.returncode != 0
    assert cfg.read_bytes() == before
    assert not (home.dir / "imports").exists()


def test_run_mode_keeps_vscode_comments_and_the_server_gets_the_value(home):
    token = stripe()
    settings = Path(home.env["HOME"]) / ".config" / "Code" / "User" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        "{\n"
        "  // my editor settings\n"
        '  "editor.fontSize": 13,\n'
        '  "mcp": {\n'
        '    "servers": {\n'
        '      "everything": {\n'
        '        "type": "stdio",\n'
        f'        "command": "{EVERYTHING}",\n'
        '        "args": ["stdio"],\n'
        f'        "env": {{ "STRIPE_API_KEY": "{token}", }}, // trailing comma\n'
        "      },\n"
        "    },\n"
        "  },\n"
        "}\n"
    )
    toml_before = (home.dir / "keyward.toml").read_bytes()
    home.run("import", "vscode", "--mode", "run")
    text = settings.read_text()
    assert token not in text
    assert "// my editor settings" in text and "// trailing comma" in text
    assert '"editor.fontSize": 13' in text
    assert (home.dir / "keyward.toml").read_bytes() == toml_before, "run mode changed keyward.toml"

    entry = _jsonc_load(text)["mcp"]["servers"]["everything"]
    assert entry["args"][:2] == ["run", "--"] and entry["args"][2] == str(EVERYTHING)
    assert entry["env"]["STRIPE_API_KEY"] == "keyward://everything.STRIPE_API_KEY"

    async def go(c):
        return text_of(await c.call_tool("get-env", {}))

    # `keyward run` has no scrubbing: the server's own output shows the value arrived.
    assert token in call_from_client_config(home, entry, go)


def _jsonc_load(text: str):
    """JSON with // comments and trailing commas, as VS Code reads it."""
    import re

    no_comments = re.sub(r"(?m)(^|\s)//[^\n]*", r"\1", text)
    no_trailing = re.sub(r",(\s*[}\]])", r"\1", no_comments)
    return json.loads(no_trailing)


def test_codex_toml_and_a_remote_server_header(home):
    token = ghp()
    remote_tok = "sk-proj-" + "".join(secrets.choice(B62) for _ in range(48))
    codex = Path(home.env["HOME"]) / ".codex" / "config.toml"
    codex.parent.mkdir(parents=True)
    codex.write_text(
        "# my codex config\nmodel = \"o4-mini\"\n\n"
        "[mcp_servers.github]\ncommand = \"npx\"  # from the README\n"
        "args = [\"-y\", \"@modelcontextprotocol/server-github\"]\n"
        f"env = {{ GITHUB_PERSONAL_ACCESS_TOKEN = \"{token}\" }}\n"
    )
    claude = Path(home.env["HOME"]) / ".claude.json"
    claude.write_text(
        json.dumps(
            {
                "numStartups": 3,
                "mcpServers": {
                    "remote": {
                        "type": "http",
                        "url": "https://mcp.example.com/mcp",
                        "headers": {"Authorization": f"Bearer {remote_tok}"},
                    }
                },
            }
        )
    )
    home.run("import", "codex")
    home.run("import", "claude-code")
    text = codex.read_text()
    assert text.startswith("# my codex config\nmodel = \"o4-mini\"\n"), text
    assert "[mcp_servers.keyward]" in text and "[mcp_servers.github]" not in text
    toml = (home.dir / "keyward.toml").read_text()
    assert 'Authorization = "Bearer keyward://remote.Authorization"' in toml, toml
    assert 'url = "https://mcp.example.com/mcp"' in toml
    assert json.loads(claude.read_text())["numStartups"] == 3
    assert leaks(home, token, remote_tok) == []
    # `keyward doctor`-style check: the config is valid and every reference resolves.
    listed = home.run("servers", "list").stdout
    assert "github" in listed and "remote" in listed


def test_secrets_in_args_are_reported_not_moved(home):
    p = Path(home.env["HOME"]) / ".cursor" / "mcp.json"
    p.parent.mkdir(parents=True)
    url = "postgres://app:" + "".join(secrets.choice(B62) for _ in range(20)) + "@db.internal:5432/app"
    p.write_text(json.dumps({"mcpServers": {"pg": {"command": "npx", "args": ["-y", "server-postgres", url]}}}))
    before = p.read_bytes()
    out = home.run("import", "cursor")
    assert "left as is: mcpServers.pg: args[2] holds a secret" in out.stdout, out.stdout
    assert "nothing to import" in out.stdout
    assert p.read_bytes() == before
    assert url not in out.stdout + out.stderr


def test_import_every_client_fixture(home, tmp_path):
    """Real-shaped configs of every client (tests/client_fixtures.py): one
    `keyward import` moves every secret that sits in an env or a header;
    secrets passed as arguments are reported and left; a scan afterwards
    finds only those; a second run changes nothing; --undo restores every
    file byte for byte."""
    import subprocess

    from client_fixtures import build_fixtures

    user_home = Path(home.env["HOME"])
    project = tmp_path / "project"
    project.mkdir()
    fx = build_fixtures(user_home, project)
    originals = {f: f.read_bytes() for f in fx.files}

    def kw(*args, check=True):
        p = subprocess.run([KEYWARD, *args], cwd=project, env=home.env, capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, p.stdout + p.stderr
        return p

    out = kw("import", "--allow-all")
    movable = [p for p in fx.planted if "args[" not in p.path]
    stuck = [p for p in fx.planted if "args[" in p.path]
    assert movable and stuck
    client_text = "".join(f.read_text() for f in fx.files if f.exists())
    for p in movable:
        assert p.value not in client_text, f"{p.file.name}:{p.path} still holds its secret"
    for p in fx.planted:
        assert p.value not in out.stdout + out.stderr, f"{p.path}: a value was printed"
        assert p.value not in home.all_files_text(), f"{p.path}: a value reached keyward's files"
    for p in stuck:
        assert p.value in client_text  # left as it was, and said so
    assert out.stdout.count("left as is:") >= len({(p.file, p.path.split(".args[")[0]) for p in stuck})

    scan = subprocess.run([KEYWARD, "scan", "--json"], cwd=project, env=home.env, capture_output=True, text=True)
    found = json.loads(scan.stdout)
    findings = found["findings"] if isinstance(found, dict) else found
    assert sorted((Path(f["file"]).resolve(), f["path"]) for f in findings) == sorted(
        (p.file.resolve(), p.path) for p in stuck
    ), findings

    before_second = {f: f.read_bytes() for f in fx.files}
    assert "nothing to import" in kw("import").stdout
    assert {f: f.read_bytes() for f in fx.files} == before_second

    kw("import", "--undo")
    assert {f: f.read_bytes() for f in fx.files} == originals


def test_the_user_names_the_vault_entry(home):
    cursor_config(home, ghp())
    p = home.run("import", "cursor", "--name", "bad", check=False)
    assert p.returncode == 2 and "expected DEFAULT=NAME" in p.stderr
    home.run("import", "cursor", "--name", "everything.GITHUB_PERSONAL_ACCESS_TOKEN=gh_pat")
    assert 'GITHUB_PERSONAL_ACCESS_TOKEN = "keyward://gh_pat"' in (home.dir / "keyward.toml").read_text()
    assert "gh_pat" in home.run("secret", "list").stdout


def test_import_merges_every_clients_servers_without_saying_so(home):
    """Issue 12, item 5: after importing Claude Desktop and then Cursor
    with `--shared`, each client's `keyward` entry shows both clients'
    servers: keyward serves one set of servers to every client, and the
    dry run and the import say so, client by client (without `--shared`,
    each client keeps to its own: test_clients.py)."""
    claude = Path(home.env["HOME"]) / ".config" / "Claude" / "claude_desktop_config.json"
    claude.parent.mkdir(parents=True, exist_ok=True)
    claude.write_text(json.dumps({"mcpServers": {"alpha": {
        "command": str(EVERYTHING), "args": ["stdio"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": ghp()}}}}))
    pw = {"KEYWARD_PASSPHRASE": PASSPHRASE}
    first = home.run("import", "claude-desktop", "--shared", "--allow-all", env=pw)
    assert "shows every server in keyward.toml (1 now), not only the ones it had" in first.stdout, first.stdout
    assert f"{claude} (claude-desktop) will see `alpha` (all its own)" in first.stdout, first.stdout

    cfg = cursor_config(home, ghp())
    for args in (["--dry-run"], []):
        p = home.run("import", "cursor", "--shared", "--allow-all", *args, env=pw)
        out = p.stdout
        assert "keyward serves one set of servers to every client that starts it" in out, out
        assert "shows every server in keyward.toml (2 now), not only the ones it had" in out, out
        assert f"{cfg} (cursor) will see `everything` (its own), and `alpha` (not its own)" in out, out
        assert "every client that already starts keyward (imported earlier) will see `everything` too" in out, out
        assert "to keep each client to the servers it had instead, import without --shared" in out, out
        # No stale advice: approvals work, confirm is not a deny.
        assert "acts as deny" not in out and "until approvals" not in out

    # What the note says is what the first client now gets.
    entry = json.loads(claude.read_text())["mcpServers"]["keyward"]

    async def go(c):
        return [t.name for t in (await c.list_tools()).tools]

    names = call_from_client_config(home, entry, go)
    assert "alpha__echo" in names and "everything__echo" in names, names
