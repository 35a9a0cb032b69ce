"""A secret passed as an argument (issue 12, item 9): a client config starts
a server with a database URL, password included, as an argument (as
@modelcontextprotocol/server-postgres is configured). `keyward import
--args` moves it to the vault and gives the wrapped server a reference in
its `args`; `keyward serve` resolves it when it starts the server. Then the
official MCP SDK client talks to that setup: the server got the real value,
the agent sees it only as [REDACTED], and the value is in no file keyward
wrote (client config, keyward.toml, audit log) nor in its stderr. The
trade-off the import states is real too: while the server runs, its argv
(in /proc, as `ps` shows it) holds the value."""

from __future__ import annotations

import json
import secrets
import string
import sys
from pathlib import Path

import anyio

from conftest import PASSPHRASE, ROOT, mcp_call, text_of

ARGV_SERVER = ROOT / "tests" / "fixtures" / "argv_server.py"
B62 = string.ascii_letters + string.digits


def database_url() -> tuple[str, str]:
    password = "".join(secrets.choice(B62) for _ in range(24))
    return f"postgresql://app:{password}@db.internal:5432/app", password


def cursor_config(home, args: list[str]) -> Path:
    p = Path(home.env["HOME"]) / ".cursor" / "mcp.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(
        json.dumps(
            {"mcpServers": {"pg": {"command": sys.executable, "args": [str(ARGV_SERVER), *args]}}},
            indent=2,
        )
    )
    return p


def serve_from(home, entry: dict, calls):
    """`keyward serve` exactly as the client's `keyward` entry starts it,
    under the official MCP SDK client."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = dict(home.env, **entry.get("env", {}))
    params = StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=env)

    async def main():
        with open(home.stderr_log, "a") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy", read_timeout_seconds=30) as c:
                return await calls(c)

    return anyio.run(main)


def test_import_args_moves_the_secret_and_the_server_still_gets_it(home, tmp_path):
    url, password = database_url()
    record = tmp_path / "argv.json"  # written by the server itself
    cfg = cursor_config(home, ["--record", str(record), url])

    # Without --args the server stays, and the skip says how to move it.
    p = home.run("import", "cursor", "--dry-run")
    assert "left as is: mcpServers.pg: args[3] holds a secret" in p.stdout, p.stdout
    assert "`keyward import --args`" in p.stdout and "`ps`" in p.stdout, p.stdout

    dry = home.run("import", "cursor", "--args", "--allow-all", "--dry-run")
    p = home.run("import", "cursor", "--args", "--allow-all", env={"KEYWARD_PASSPHRASE": PASSPHRASE})
    for out in (dry, p):
        assert "vault secret `pg.args.3`  from mcpServers.pg.args[3]" in out.stdout, out.stdout
        # The trade-off, said plainly in the dry run and when applying.
        assert "args[3] = `keyward://pg.args.3`" in out.stdout, out.stdout
        assert "visible to local processes such as `ps`" in out.stdout, out.stdout
        assert "the client config no longer holds the value" in out.stdout, out.stdout
        assert password not in out.stdout + out.stderr

    client = json.loads(cfg.read_text())["mcpServers"]
    assert set(client) == {"keyward"}, client
    assert password not in cfg.read_text(), "the client config still holds the password"
    toml = (home.dir / "keyward.toml").read_text()
    assert f'args = ["{ARGV_SERVER}", "--record", "{record}", "keyward://pg.args.3"]' in toml, toml
    assert password not in toml
    # doctor checks the argument's reference like any other.
    doctor = home.run("doctor", check=False)
    assert "servers.pg.args[3]" in doctor.stdout, doctor.stdout

    async def go(c):
        names = [t.name for t in (await c.list_tools()).tools]
        answer = text_of(await c.call_tool("pg__argv", {}))
        pid = int(text_of(await c.call_tool("pg__pid", {})))
        # Read while the server runs: what `ps` would show.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        return names, answer, cmdline

    home.env["KEYWARD_LOG"] = "trace"  # the server's stderr (its argv) is logged
    names, answer, cmdline = serve_from(home, client["keyward"], go)
    assert "pg__argv" in names, names
    # The server got the real value...
    assert json.loads(record.read_text())[-1] == url
    # ...the agent only its scrubbed form...
    assert password not in answer and "[REDACTED]" in answer, answer
    assert json.loads(answer)[:2] == ["--record", str(record)], answer
    # ...and the trade-off is as stated: the running server's argv holds it.
    assert url in cmdline.split("\0"), "the server's argv lacks the value"

    # Nowhere keyward wrote: keyward.toml, the audit log (and the rest of
    # its home: vault and backups are sealed), its stderr.
    assert home.audit(), "the calls were not audited"
    assert password not in home.all_files_text()
    stderr = home.stderr_log.read_text()
    assert password not in stderr
    assert "starting with argv" in stderr and "[REDACTED]" in stderr, "the server's stderr was not logged"
    assert password not in cfg.read_text()


def test_an_argument_reference_that_does_not_resolve_disables_only_its_server(home, tmp_path):
    home.write_config(f"""
[servers.broken]
command = "{sys.executable}"
args = ["{ARGV_SERVER}", "keyward://no_such_secret"]
[servers.broken.tools]
"*" = "allow"

[servers.ok]
command = "{sys.executable}"
args = ["{ARGV_SERVER}", "hello"]
[servers.ok.tools]
"*" = "allow"
""")
    doctor = home.run("doctor", check=False)
    assert "servers.broken.args[1]" in doctor.stdout, doctor.stdout
    assert "server `broken` is unavailable" in doctor.stdout, doctor.stdout
    listed = home.run("servers", "list", check=False).stdout
    assert "keyward://no_such_secret" in listed, listed

    async def go(c):
        names = [t.name for t in (await c.list_tools()).tools]
        return names, text_of(await c.call_tool("ok__argv", {}))

    names, answer = mcp_call(home, go)
    assert "ok__argv" in names and not any(n.startswith("broken__") for n in names), names
    assert json.loads(answer) == ["hello"], answer
