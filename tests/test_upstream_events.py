"""An upstream's `notifications/tools/list_changed` reaches the agent, and
the re-listed tools are what the agent then sees (issue 4). The upstream is
@modelcontextprotocol/server-everything from npm, which announces a tools
change as soon as it starts."""

from __future__ import annotations

import anyio
import pytest

from conftest import KEYWARD, ROOT

EVERYTHING = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-everything"


def test_tools_list_changed_reaches_the_agent(home):
    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")
    home.write_config(f"""
[servers.ev]
command = "{EVERYTHING}"
args = ["stdio"]
[servers.ev.tools]
"echo" = "allow"
""")
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    seen: list[str] = []

    async def on_message(message):
        root = getattr(message, "root", message)
        method = getattr(root, "method", None)
        if method:
            seen.append(method)

    params = StdioServerParameters(command=KEYWARD, args=["serve"], env=home.env)

    async def main():
        with open(home.stderr_log, "a") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog), mode="legacy", message_handler=on_message, read_timeout_seconds=30
            ) as c:
                first = [t.name for t in (await c.list_tools()).tools]  # starts the upstream
                with anyio.move_on_after(10):
                    while "notifications/tools/list_changed" not in seen:
                        await anyio.sleep(0.1)
                again = [t.name for t in (await c.list_tools()).tools]
                return first, again

    first, again = anyio.run(main)
    assert "notifications/tools/list_changed" in seen, seen
    assert "ev__echo" in again and "ev__get-env" not in again
