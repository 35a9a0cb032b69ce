"""Issue 12, item 5: each client keeps to the servers it had. One
keyward.toml, two `keyward serve --client NAME` sessions under the official
Python MCP SDK client: each sees its own servers' tools (and those without a
`clients` list), a call by name to the other client's tool is refused as an
unknown tool and audited, and a session without --client sees only the
servers without a list. Over `keyward serve --http` the agent's token name
is its client name: nothing the agent sends can change it."""

from __future__ import annotations

import sys

import anyio
import pytest

from conftest import KEYWARD, ROOT, text_of
from http_service import Service, add_agent, mcp_http

EVERYTHING = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-everything"
PIN_SERVER = ROOT / "tests" / "fixtures" / "pin_server.py"

UNKNOWN = "error: unknown tool `{}`; call list_services, or list the tools again"


@pytest.fixture
def two_clients(home):
    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")
    home.write_config(f"""
[servers.ev]
command = "{EVERYTHING}"
args = ["stdio"]
clients = ["claude-desktop"]

[servers.ev.tools]
"echo" = "allow"

[servers.pin]
command = "{sys.executable}"
args = ["{PIN_SERVER}"]
clients = ["cursor"]

[servers.pin.tools]
"add" = "allow"

[servers.common]
command = "{sys.executable}"
args = ["{PIN_SERVER}"]

[servers.common.tools]
"add" = "allow"
""")
    return home


def serve_as(home, client: str | None, calls):
    """`keyward serve [--client CLIENT]` under the official MCP SDK client."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.types import Implementation

    args = ["serve"] + (["--client", client] if client else [])
    params = StdioServerParameters(command=KEYWARD, args=args, env=home.env)

    async def main():
        with open(home.stderr_log, "a") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog),
                mode="legacy",
                # What the MCP client says of itself never counts.
                client_info=Implementation(name="cursor", version="1.0"),
                read_timeout_seconds=30,
            ) as c:
                return await calls(c)

    return anyio.run(main)


def upstream_tools(tools) -> list[str]:
    return sorted(t.name for t in tools if "__" in t.name)


def test_two_clients_see_their_own_servers_and_a_call_to_the_others_is_refused_and_audited(two_clients):
    home = two_clients

    async def desktop(c):
        tools = upstream_tools((await c.list_tools()).tools)
        own = await c.call_tool("ev__echo", {"message": "from claude-desktop"})
        theirs = await c.call_tool("pin__add", {"a": 1, "b": 2})
        nothing = await c.call_tool("nope__add", {"a": 1, "b": 2})
        services = await c.call_tool("list_services", {})
        return tools, own, theirs, nothing, services

    async def cursor(c):
        tools = upstream_tools((await c.list_tools()).tools)
        own = await c.call_tool("pin__add", {"a": 1, "b": 2})
        theirs = await c.call_tool("ev__echo", {"message": "from cursor"})
        common = await c.call_tool("common__add", {"a": 2, "b": 2})
        return tools, own, theirs, common

    d_tools, d_own, d_theirs, d_nothing, d_services = serve_as(home, "claude-desktop", desktop)
    c_tools, c_own, c_theirs, c_common = serve_as(home, "cursor", cursor)

    assert d_tools == ["common__add", "ev__echo"], d_tools
    assert c_tools == ["common__add", "pin__add"], c_tools

    assert not d_own.is_error and "from claude-desktop" in text_of(d_own)
    assert not c_own.is_error and "3" in text_of(c_own), text_of(c_own)
    assert not c_common.is_error and "4" in text_of(c_common), text_of(c_common)
    # Refused exactly as a tool that does not exist at all.
    assert d_theirs.is_error and text_of(d_theirs) == UNKNOWN.format("pin__add")
    assert c_theirs.is_error and text_of(c_theirs) == UNKNOWN.format("ev__echo")
    assert text_of(d_nothing) == UNKNOWN.format("nope__add")
    assert "pin" not in text_of(d_services), text_of(d_services)

    refused = [r for r in home.audit() if r.get("kind") == "tool" and r["decision"] == "error"]
    assert [(r["target"], r["tool"], r["rule"]) for r in refused] == [
        ("pin", "add", 'clients = ["cursor"] (this session: claude-desktop)'),
        ("ev", "echo", 'clients = ["claude-desktop"] (this session: cursor)'),
    ], home.audit()
    assert all(r["error"] == UNKNOWN.format(f"{r['target']}__{r['tool']}") for r in refused)
    allowed = [(r["target"], r["tool"]) for r in home.audit() if r.get("decision") == "allow"]
    assert allowed == [("ev", "echo"), ("pin", "add"), ("common", "add")], allowed
    assert home.run("audit", "verify").returncode == 0


def test_without_client_a_session_sees_only_the_servers_without_a_list(two_clients):
    home = two_clients

    async def go(c):
        tools = upstream_tools((await c.list_tools()).tools)
        return tools, await c.call_tool("pin__add", {"a": 1, "b": 2})

    tools, hidden = serve_as(home, None, go)
    assert tools == ["common__add"], tools
    assert text_of(hidden) == UNKNOWN.format("pin__add")
    # The human learns why from keyward's log (the client's stderr).
    log = home.stderr_log.read_text()
    assert "this session has no --client" in log and "ev, pin" in log, log


def test_a_client_name_that_cannot_be_one_is_refused(two_clients):
    p = two_clients.run("serve", "--client", "two words", check=False)
    assert p.returncode == 2 and "invalid client name" in p.stderr, p.stderr
    # Over HTTP each agent is its own client: there is no --client to claim.
    p = two_clients.run("serve", "--http", "--client", "cursor", check=False)
    assert p.returncode == 2 and "--client" in p.stderr and "--http" in p.stderr, p.stderr


def test_over_http_the_tokens_agent_is_the_client(two_clients):
    home = two_clients
    cursor, other = add_agent(home, "cursor"), add_agent(home, "laptop")

    async def go(c):
        tools = upstream_tools((await c.list_tools()).tools)
        return tools, await c.call_tool("ev__echo", {"message": "x"})

    with Service(home) as s:
        # The client may call itself claude-desktop: the token says cursor.
        c_tools, c_hidden = mcp_http(s.url, cursor, go, client_name="claude-desktop")
        o_tools, o_hidden = mcp_http(s.url, other, go, client_name="claude-desktop")
    assert c_tools == ["common__add", "pin__add"], c_tools
    assert o_tools == ["common__add"], o_tools
    assert text_of(c_hidden) == UNKNOWN.format("ev__echo")
    assert text_of(o_hidden) == UNKNOWN.format("ev__echo")
    rules = [r["rule"] for r in home.audit() if r.get("kind") == "tool"]
    assert rules == [
        'clients = ["claude-desktop"] (this session: cursor)',
        'clients = ["claude-desktop"] (this session: laptop)',
    ], home.audit()
