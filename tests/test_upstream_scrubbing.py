"""Everything an upstream MCP server returns is scrubbed (issue 4, SECURITY.md
items 1 and 8): tool definitions, structured content, embedded resources,
tool errors, its stderr in keyward's own log, and the pins file. The
upstream is a fixture built on the official Python SDK that tries each way;
and @modelcontextprotocol/server-filesystem (npm) is driven end to end."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT, canary, mcp_call, text_of

LEAKY = ROOT / "tests" / "fixtures" / "leaky_server.py"
FILESYSTEM = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-filesystem"


@pytest.fixture
def leaky(home):
    injected = canary("inj")
    other = canary("other")  # in the vault, never injected into this child
    home.set_secret("leak", injected)
    home.set_secret("other", other)
    home.write_config(f"""
[servers.lk]
command = "{sys.executable}"
args = ["{LEAKY}", "{other}"]
env = {{ LEAK = "keyward://leak" }}
[servers.lk.tools]
"*" = "allow"
""")
    home.env["KEYWARD_LOG"] = "trace"
    return injected, other


def test_every_upstream_channel_is_scrubbed(home, leaky):
    injected, other = leaky

    async def go(client):
        tools = (await client.list_tools()).tools
        return (
            tools,
            await client.call_tool("lk__structured", {}),
            await client.call_tool("lk__embedded", {}),
            await client.call_tool("lk__fails", {}),
        )

    tools, structured, embedded, fails = mcp_call(home, go)
    seen = {
        "tools/list": json.dumps([t.model_dump(mode="json") for t in tools]),
        "structured": json.dumps(structured.model_dump(mode="json")),
        "embedded": json.dumps(embedded.model_dump(mode="json")),
        "error": json.dumps(fails.model_dump(mode="json")),
    }
    for where, text in seen.items():
        assert injected not in text, f"{where} carried the injected secret"
        assert other not in text, f"{where} carried another vault secret"
    # The values were really there, replaced: the scrubber did the work.
    assert "[REDACTED]" in seen["structured"] and "[REDACTED]" in seen["embedded"]
    assert structured.structured_content, structured
    assert json.dumps(structured.structured_content).count("[REDACTED]") == 2, structured.structured_content
    assert fails.is_error and "[REDACTED]" in text_of(fails)
    desc = next(t.description for t in tools if t.name == "lk__structured")
    assert "[REDACTED]" in desc, desc
    # keyward's own log (stderr, at trace) and files: the child's stderr
    # printed both values.
    # (keyward.toml holds `other` as the fixture's argument: not keyward's output.)
    outputs = [f for f in home.dir.rglob("*") if f.is_file() and f.name != "keyward.toml"]
    outputs.append(home.stderr_log)
    for f in outputs:
        data = f.read_text("latin-1")
        assert injected not in data, f"the injected secret reached {f.name}"
        assert other not in data, f"another vault secret reached {f.name}"
    assert "[REDACTED]" in home.stderr_log.read_text(), "the child's stderr was not logged at all"


def test_filesystem_server_through_keyward_serve(home, tmp_path):
    if not FILESYSTEM.exists():
        pytest.fail(f"{FILESYSTEM} missing: run `npm ci --prefix tests/node`")
    allowed = tmp_path / "shared"
    allowed.mkdir()
    (allowed / "notes.txt").write_text("hello from the filesystem server\n")
    secret_file = tmp_path / "outside.txt"
    secret_file.write_text("not for the agent\n")
    home.write_config(f"""
[servers.fs]
command = "{FILESYSTEM}"
args = ["{allowed}"]
[servers.fs.tools]
"read_*" = "allow"
"list_*" = "allow"
"write_file" = "deny"
""")

    async def go(client):
        names = sorted(t.name for t in (await client.list_tools()).tools)
        read = await client.call_tool("fs__read_text_file", {"path": str(allowed / "notes.txt")})
        outside = await client.call_tool("fs__read_text_file", {"path": str(secret_file)})
        write = await client.call_tool("fs__write_file", {"path": str(allowed / "x"), "content": "x"})
        return names, read, outside, write

    names, read, outside, write = mcp_call(home, go)
    assert "fs__read_text_file" in names and "fs__list_directory" in names
    assert "fs__write_file" not in names and "fs__edit_file" not in names
    assert not read.is_error and "hello from the filesystem server" in text_of(read)
    assert outside.is_error and "not for the agent" not in text_of(outside)  # the server's own sandbox
    assert write.is_error and "denied" in text_of(write)
    assert not (allowed / "x").exists()
