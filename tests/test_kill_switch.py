"""The kill switch and the control socket against a same-user process that
moves, fakes or hides keyward's local sockets (SECURITY.md item 11): the
real binary, the official Python MCP SDK as the client, a real HTTP
upstream on 127.0.0.1."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import anyio

from conftest import canary, fake_listener, mcp_call, open_service, text_of
from http_service import Service, add_agent, mcp_http

PASS = {"KEYWARD_PASSPHRASE": "correct horse battery staple"}
GET = {"service": "s", "method": "GET", "path": "/v1/thing"}
FIXTURES = Path(__file__).parent / "fixtures"


def socket_of(home, pid: int) -> Path:
    return home.dir / "run" / f"serve-{pid}.sock"


def wait_for(pred, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_lock_reaches_a_keyward_whose_control_socket_was_moved_away(home, upstream):
    """Issue 10 item 3: the agent moves run/serve-PID.sock away; `keyward
    lock` cannot reach that keyward, which must still lock itself when it
    sees the lock marker."""
    home.set_secret("tok", canary("lock"))
    home.write_config(open_service(upstream.origin, secret="tok"))
    started, locked = threading.Event(), threading.Event()

    async def calls(client):
        before = await client.call_tool("http_request", GET)
        started.set()
        while not locked.is_set():
            await anyio.sleep(0.05)
        await anyio.sleep(2.5)  # more than the one second the marker takes
        after = await client.call_tool("http_request", GET)
        return before, after

    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault("r", mcp_call(home, calls)), daemon=True)
    t.start()
    assert started.wait(60)
    [sock] = wait_for(lambda: list((home.dir / "run").glob("serve-*.sock")), "the control socket")
    sock.rename(home.dir / "moved-away.sock")
    home.run("lock")
    locked.set()
    t.join(60)
    before, after = result["r"]
    assert not before.is_error, text_of(before)
    assert after.is_error and "locked" in text_of(after), text_of(after)
    assert len(upstream.requests) == 1, "a call reached the upstream while locked"


def test_lock_says_when_a_service_it_can_see_did_not_answer(home, upstream):
    """Issue 10 item 3: run/http.json names a live service whose socket is
    gone: `keyward lock` says so (exit 1), and the service still locks."""
    home.set_secret("tok", canary("lock"))
    home.write_config(open_service(upstream.origin, secret="tok"))
    token = add_agent(home, "alice")
    with Service(home) as s:
        sock = socket_of(home, s.proc.pid)
        wait_for(sock.exists, "the service's control socket")
        sock.rename(home.dir / "moved-away.sock")
        p = home.run("lock", check=False)
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert "did not answer" in p.stderr and str(s.proc.pid) in p.stderr, p.stderr
        time.sleep(2.5)

        async def go(c):
            return await c.call_tool("http_request", GET)

        r = mcp_http(s.url, token, go)
    assert r.is_error and "locked" in text_of(r), text_of(r)
    assert upstream.requests == []


def test_a_fake_control_socket_cannot_invent_questions_or_a_lock(home):
    """Issue 10 item 5: a listener at run/serve-PID.sock that is not keyward
    must not get its invented question listed by `keyward approvals`, nor
    its "locked" printed by `keyward lock`; both name the socket they
    ignored."""
    home.write_config("")
    run = home.dir / "run"
    run.mkdir(exist_ok=True)
    path = socket_of(home, os.getpid())  # named after a real process: this one (python)
    fake_q = {"id": "feedfacefeedface", "agent": "boss", "kind": "http", "target": "INVENTED-TARGET",
              "rule": None, "preview": None, "reason": "trust me", "grants": "g",
              "asked": "2026-01-01T00:00:00Z", "deadline": "2026-01-01T00:00:00Z"}
    srv, got = fake_listener(path, {"ok": True, "pid": os.getpid(), "locked": True,
                                    "message": "FAKE-LOCKED", "pending": [fake_q]})
    try:
        listed = home.run("approvals")
        locked = home.run("lock", check=False)
    finally:
        srv.close()
    assert "feedfacefeedface" not in listed.stdout and "INVENTED-TARGET" not in listed.stdout, listed.stdout
    assert "ignoring" in listed.stderr and str(path) in listed.stderr, listed.stderr
    assert "FAKE-LOCKED" not in locked.stdout + locked.stderr
    assert "ignoring" in locked.stderr
    assert not any(got), f"a request went to a listener that is not keyward: {got}"


def test_lists_while_locked_start_and_ask_no_upstream_server(home, tmp_path):
    """Issue 10 item 10: a lock means no traffic at all — tools/list,
    resources/list and prompts/list must not start or ask an upstream."""
    marker = tmp_path / "started"
    home.write_config(
        f"""
[servers.pins]
command = "{sys.executable}"
args = ["-c", "import pathlib,runpy,sys; pathlib.Path({str(marker)!r}).touch(); sys.argv=['x']; runpy.run_path({str(FIXTURES / 'pin_server.py')!r}, run_name='__main__')"]
resources = "allow"
prompts = "allow"

[servers.pins.tools]
add = "allow"
"""
    )
    home.run("lock")

    async def calls(client):
        tools = [t.name for t in (await client.list_tools()).tools]
        return tools

    tools = mcp_call(home, calls)
    assert not any(t.startswith("pins__") for t in tools), tools
    assert not marker.exists(), "an upstream server was started while keyward was locked"
    home.run("unlock", env=PASS)
    tools = mcp_call(home, calls)
    assert "pins__add" in tools, tools
    assert marker.exists()
