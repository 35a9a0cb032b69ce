"""Bad input on the wire (SECURITY.md item 9): keyward keeps answering."""

from __future__ import annotations

import json
import subprocess

from conftest import KEYWARD


def rpc(id_, method, params=None) -> bytes:
    msg = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        msg["params"] = params
    return (json.dumps(msg) + "\n").encode()


def test_malformed_messages_do_not_stop_the_server(home, upstream):
    home.write_config(f'[services.s]\nbase_url = "{upstream.origin}"\n[[services.s.rules]]\naction = "allow"\npaths = ["/ok"]\n')
    init = rpc(1, "initialize", {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    })
    initialized = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    garbage = [
        b"this is not json\n",
        b"\xff\xfe\xfd invalid utf-8 \x80\n",
        b'{"jsonrpc":"2.0","id":2,"method":\n',
        b'{"jsonrpc":"2.0","id":3}\n',
        b"[1,2,3]\n",
        b'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"http_request","arguments":"not an object"}}\n',
        rpc(5, "tools/call", {"name": "http_request", "arguments": {"service": ["x"], "method": 1, "path": None}}),
        rpc(6, "no/such/method", {}),
        b"{" * 10000 + b"\n",
    ]
    call = rpc(7, "tools/call", {"name": "http_request", "arguments": {"service": "s", "method": "GET", "path": "/ok"}})
    stdin = init + initialized + b"".join(garbage) + call
    p = subprocess.run([KEYWARD, "serve"], input=stdin, capture_output=True, env=home.env, timeout=30)
    responses = {}
    for line in p.stdout.splitlines():
        msg = json.loads(line)
        if "id" in msg:
            responses[msg["id"]] = msg
    assert responses[1]["result"]["protocolVersion"] == "2025-06-18"
    assert responses[1]["result"]["serverInfo"]["name"] == "keyward"
    assert responses[5]["result"]["isError"] is True
    assert "error" in responses[6]
    final = responses[7]["result"]
    assert final.get("isError") in (None, False), final
    assert final["structuredContent"]["status"] == 200
    assert b"panicked" not in p.stderr


def test_version_negotiation_offers_a_known_version(home):
    init = rpc(1, "initialize", {"protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}})
    p = subprocess.run([KEYWARD, "serve"], input=init, capture_output=True, env=home.env, timeout=30)
    msg = json.loads(p.stdout.splitlines()[0])
    assert msg["result"]["protocolVersion"] in ("2025-11-25", "2025-06-18")
