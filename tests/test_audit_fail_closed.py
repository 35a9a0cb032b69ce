"""The audit record is written before the answer goes back; when it cannot
be written, the call fails and its result is withheld (fail closed)."""

from __future__ import annotations

from conftest import canary, mcp_call, open_service, text_of


def test_a_call_whose_audit_record_cannot_be_written_returns_nothing(home, upstream):
    token = canary("fc")
    home.set_secret("tok", token)
    home.write_config(open_service(upstream.origin, secret="tok", methods=["GET"]))
    log = home.dir / "audit.jsonl"
    args = {"service": "s", "method": "GET", "path": "/v1/data"}

    async def go(client):
        first = await client.call_tool("http_request", args)
        # Someone cuts the log short behind keyward's back.
        log.write_text("")
        second = await client.call_tool("http_request", args)
        denied = await client.call_tool("http_request", dict(args, method="DELETE"))
        return first, second, denied

    first, second, denied = mcp_call(home, go)
    assert not first.is_error
    assert second.is_error and "could not write its audit log" in text_of(second)
    assert second.structured_content is None, "the upstream's answer leaked past a failed audit"
    assert "/v1/data" not in text_of(second)
    assert denied.is_error and "could not write its audit log" in text_of(denied)
    # Only the first call reached the upstream: a call that cannot be
    # recorded is not made at all.
    assert len(upstream.requests) == 1


def test_a_torn_last_line_stops_the_audit_until_repaired(home, upstream):
    home.write_config(open_service(upstream.origin))
    log = home.dir / "audit.jsonl"
    args = {"service": "s", "method": "GET", "path": "/x"}

    async def go(client):
        await client.call_tool("http_request", args)
        with open(log, "a") as f:
            f.write('{"seq":2,"ts":"2026-')  # a crash mid-write
        return await client.call_tool("http_request", args)

    r = mcp_call(home, go)
    assert r.is_error and "could not write its audit log" in text_of(r)
    assert len(upstream.requests) == 1
    p = home.run("audit", "verify", check=False)
    # The torn line is the last one (after the config approvals' records).
    torn = len(log.read_text().splitlines())
    assert p.returncode == 1 and f"line {torn}" in p.stdout
