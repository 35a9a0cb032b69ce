"""Helpers for `keyward serve --http`: the real binary as a service in a
`home`, the official Python MCP SDK as its HTTP client (bearer token in the
header), and raw HTTP for what a client library would not send."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time
from pathlib import Path

import anyio

from conftest import KEYWARD, Home


def run_file(home: Home) -> Path:
    return home.dir / "run" / "http.json"


def add_agent(home: Home, name: str) -> str:
    """`keyward agent add NAME`: the token is stdout's only line."""
    p = home.run("agent", "add", name)
    token = p.stdout.strip()
    assert token.startswith("kwa_") and "\n" not in token, p.stdout
    return token


class Service:
    """`keyward serve --http 127.0.0.1:0` (a free port); the address is read
    from run/http.json, which the service writes once it answers."""

    def __init__(self, home: Home, addr: str = "127.0.0.1:0", args: tuple[str, ...] = ()):
        self.home = home
        self.log = home.dir.parent / "serve-http.log"
        self.cmd = [KEYWARD, "serve", "--http", addr, *args]
        self.proc: subprocess.Popen | None = None
        self.addr = ""

    def __enter__(self) -> "Service":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, env=self.home.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"keyward serve --http exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                info = json.loads(run_file(self.home).read_text())
            except (OSError, ValueError):
                info = None
            if info and info["pid"] == self.proc.pid:
                self.addr = info["addr"]
                return self
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"keyward serve --http did not start:\n{self.log.read_text()}")

    @property
    def url(self) -> str:
        return f"http://{self.addr}/mcp"

    @property
    def port(self) -> int:
        return int(self.addr.rsplit(":", 1)[1])

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0

    def __exit__(self, *exc) -> None:
        self.stop()
        with open(self.home.stderr_log, "a") as out:
            out.write(self.log.read_text("latin-1") if self.log.exists() else "")


def http_client(url: str, token: str | None, *, mode: str = "legacy", client_name: str = "pytest-agent", **kw):
    """An SDK `Client` on `url` with `Authorization: Bearer token` (an async
    context manager)."""
    from contextlib import asynccontextmanager

    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.types import Implementation

    @asynccontextmanager
    async def cm():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with create_mcp_http_client(headers=headers) as hc:
            async with Client(
                streamable_http_client(url, http_client=hc),
                mode=mode,
                client_info=Implementation(name=client_name, version="1.0"),
                read_timeout_seconds=30,
                **kw,
            ) as client:
                yield client

    return cm()


def mcp_http(url: str, token: str | None, calls, **kw):
    """Runs `calls(client)` on one HTTP client; returns its result."""

    async def main():
        async with http_client(url, token, **kw) as client:
            return await calls(client)

    return anyio.run(main)


def connect_client(home: Home, token: str, *, mode: str = "legacy", args: tuple[str, ...] = (), **kw):
    """An SDK `Client` that spawns `keyward connect` as its stdio server."""
    from contextlib import asynccontextmanager

    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.types import Implementation

    env = dict(home.env, KEYWARD_AGENT_TOKEN=token)
    params = StdioServerParameters(command=KEYWARD, args=["connect", *args], env=env)

    @asynccontextmanager
    async def cm():
        with open(home.stderr_log, "a") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog),
                mode=mode,
                client_info=Implementation(name="stdio-claims-a-name", version="1.0"),
                read_timeout_seconds=30,
                **kw,
            ) as client:
                yield client

    return cm()


INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }
)


def raw_post(addr: str, headers: dict[str, str], body: str = INITIALIZE, path: str = "/mcp"):
    """One POST with exactly these headers (Host included, when given)."""
    return raw_request(addr, "POST", headers, body, path=path)


def raw_request(addr: str, method: str, headers: dict[str, str], body: str | None = None, path: str = "/mcp", read: bool = True):
    """One request with exactly these headers. An event stream is read up to
    its first JSON-RPC message (or not at all, with `read=False`); any other
    body is read whole."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    h = {"Accept": "application/json, text/event-stream", **headers}
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    conn.putrequest(method, path, skip_host="Host" in h, skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    data = body.encode() if body is not None else b""
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    stream = resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream")
    if stream and not read:
        out_body = b""
    elif stream:
        # The stream stays open: read up to the first JSON-RPC message.
        out_body = b""
        while b'data: {' not in out_body or not out_body.endswith(b"\n\n"):
            chunk = resp.read1(65536)
            if not chunk:
                break
            out_body += chunk
    else:
        out_body = resp.read()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, out_body.decode("utf-8", "replace"))
    conn.close()
    return out


def sse_message(body: str) -> dict | None:
    """The first JSON-RPC message of an event-stream body."""
    for line in body.splitlines():
        if line.startswith("data: {"):
            return json.loads(line[len("data: "):])
    return None


class RawSession:
    """One initialize-session in raw JSON-RPC over HTTP (2025-11-25), so a
    test can send its `Mcp-Session-Id` with another agent's token."""

    def __init__(self, addr: str, token: str):
        self.addr, self.token = addr, token
        self.id = ""
        self.next_id = 1

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.token}",
            "MCP-Protocol-Version": "2025-11-25",
            "Mcp-Session-Id": self.id,
        }

    def open(self) -> "RawSession":
        status, headers, body = raw_post(self.addr, {"Authorization": f"Bearer {self.token}"})
        assert status == 200 and "mcp-session-id" in headers, (status, body)
        self.id = headers["mcp-session-id"]
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
        status, _, body = raw_request(self.addr, "POST", self.headers(), note)
        assert status == 202, (status, body)
        return self

    def request(self, method: str, params: dict | None = None, token: str | None = None):
        """(HTTP status, the JSON-RPC answer or the body's text)."""
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        status, _, body = raw_request(self.addr, "POST", self.headers(token), json.dumps(msg))
        return status, (sse_message(body) if status == 200 else body)

    def call_tool(self, name: str, arguments: dict, token: str | None = None):
        return self.request("tools/call", {"name": name, "arguments": arguments}, token)

    def get_stream(self, token: str | None = None):
        """(status, body) of the session's GET stream (not read when it opens)."""
        status, _, body = raw_request(self.addr, "GET", self.headers(token), read=False)
        return status, body

    def delete(self, token: str | None = None):
        status, _, body = raw_request(self.addr, "DELETE", self.headers(token))
        return status, body
