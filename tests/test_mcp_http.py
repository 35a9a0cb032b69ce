"""keyward serve, driven by the official Python MCP SDK, proxying to a real
HTTP upstream on 127.0.0.1. Each test names the SECURITY.md item it pins."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import canary, mcp_call, text_of
from upstream import Upstream


def config(origin: str, *, auth: str, extra: str = "", prefix: str = "/api") -> str:
    return f"""
# Nobody answers a confirmation in these tests: deny after a second.
[approvals]
timeout = "1s"
notify = false

[services.svc]
base_url = "{origin}{prefix}"
description = "test service"
auth = {auth}

[[services.svc.rules]]
action = "allow"
methods = ["GET", "POST"]
paths = ["/v1/**", "/redirect", "/split", "/big", "/binary", "/encoded", "/gzip", "/slow", "/cookie", "/status-leak", "/header-name-leak"]

[[services.svc.rules]]
action = "deny"
paths = ["/v1/admin/**"]

[[services.svc.rules]]
action = "confirm"
methods = ["DELETE"]
paths = ["/v1/**"]
{extra}
"""


@pytest.fixture
def secret(home, upstream):
    value = canary("bearer")
    upstream.leak = value
    home.set_secret("svc_token", value)
    home.write_config(config(upstream.origin, auth='{ type = "bearer", secret = "svc_token" }'))
    return value


def call(home, args: dict, **kw):
    async def go(client):
        return await client.call_tool("http_request", args)

    return mcp_call(home, go, **kw)


def structured(result) -> dict:
    return result.structured_content or {}


def reflected(result) -> dict:
    return json.loads(structured(result)["body"])


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_lists_tools_and_services_on_both_protocol_generations(home, upstream, secret, mode):
    async def go(client):
        tools = await client.list_tools()
        services = await client.call_tool("list_services", {})
        return client.protocol_version, tools, services

    version, tools, services = mcp_call(home, go, mode=mode)
    assert version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    names = sorted(t.name for t in tools.tools)
    assert names == ["http_request", "list_services", "request_access"]
    text = text_of(services)
    assert "svc:" in text and "allow GET,POST" in text and "deny * /v1/admin/**" in text
    assert secret not in text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_allowed_call_reaches_upstream_with_credential_and_comes_back_scrubbed(home, upstream, secret, mode):
    r = call(
        home,
        {"service": "svc", "method": "get", "path": "/v1/charges?limit=3", "query": {"x": "a b"}},
        mode=mode,
    )
    assert not r.is_error, text_of(r)
    assert structured(r)["status"] == 200
    seen = upstream.requests[-1]
    assert seen["method"] == "GET"
    assert seen["path"] == "/api/v1/charges"
    assert seen["raw_query"] == "limit=3&x=a+b"
    auth = [v for k, v in seen["headers"] if k.lower() == "authorization"]
    assert auth == [f"Bearer {secret}"], "upstream must get exactly the injected credential"
    # The reflected Authorization header must come back scrubbed.
    out = text_of(r) + json.dumps(structured(r))
    assert secret not in out
    assert "Bearer [REDACTED]" in out
    rec = home.audit()[-1]
    assert rec["decision"] == "allow" and rec["status"] == 200
    assert rec["agent"] == "pytest-agent 1.0"
    assert rec["path"] == "/v1/charges" and rec["redactions"] >= 1


def test_default_deny_and_explicit_deny_and_confirm_are_refused_and_audited(home, upstream, secret):
    cases = [
        ({"method": "PUT", "path": "/v1/charges"}, "no rule allows PUT /v1/charges on svc"),
        ({"method": "GET", "path": "/v1/admin/users"}, "denied by rule"),
        ({"method": "GET", "path": "/V1/ADMIN/users"}, "denied by rule"),
        ({"method": "GET", "path": "/v1/Admin/users"}, "denied by rule"),
        ({"method": "DELETE", "path": "/v1/charges/ch_1"}, "confirmation"),
        ({"method": "GET", "path": "/other"}, "no rule allows"),
    ]

    async def go(client):
        return [await client.call_tool("http_request", dict(service="svc", **a)) for a, _ in cases]

    results = mcp_call(home, go)
    for (args, why), r in zip(cases, results):
        assert r.is_error, args
        assert why in text_of(r), (args, text_of(r))
    assert upstream.requests == [], "a denied call reached the upstream"
    calls = [rec for rec in home.audit() if rec["kind"] == "http"]
    assert [rec["decision"] for rec in calls] == ["deny"] * 6
    # The confirm was asked, nobody answered within the timeout: denied.
    assert calls[4]["channel"] == "timeout" and calls[4]["approval"]
    asked = [rec for rec in home.audit() if rec["kind"] == "approval"]
    assert [rec["decision"] for rec in asked] == ["asked", "deny"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/../admin",
        "/v1/%2e%2e/admin",
        "/v1/%252e%252e/admin",
        "/v1%2fadmin",
        "//evil.example/v1/x",
        "https://evil.example/v1/x",
        "@evil.example/v1/x",
        "\\\\evil.example\\v1",
        "/v1/x;jsessionid=1",
        "/v1/x#frag",
        "/v1/\u2215admin",
        "/v1/%c0%ae%c0%ae/admin",
        "/v1/x%0d%0aHost:%20evil",
        "v1/charges",
    ],
)
def test_path_tricks_are_rejected_before_any_request(home, upstream, secret, path):
    r = call(home, {"service": "svc", "method": "GET", "path": path})
    assert r.is_error, path
    assert "path rejected" in text_of(r) or "no rule" in text_of(r)
    assert upstream.requests == []


def test_agent_headers_cannot_replace_credential_or_change_host(home, upstream, secret):
    r = call(
        home,
        {
            "service": "svc",
            "method": "GET",
            "path": "/v1/x",
            "headers": {
                "Authorization": "Bearer attacker",
                "Cookie": "a=b",
                "Host": "evil.example",
                "X-Forwarded-Host": "evil.example",
                "X-HTTP-Method-Override": "DELETE",
                "Proxy-Authorization": "x",
                "X-Custom": "kept",
            },
        },
    )
    assert not r.is_error, text_of(r)
    seen = {k.lower(): v for k, v in upstream.requests[-1]["headers"]}
    assert seen["authorization"] == f"Bearer {secret}"
    assert seen["host"] == upstream.origin.removeprefix("http://")
    for h in ["cookie", "x-forwarded-host", "x-http-method-override", "proxy-authorization"]:
        assert h not in seen, h
    assert seen["x-custom"] == "kept"
    assert "cookie" in structured(r)["dropped_headers"]


def test_crlf_header_injection_is_refused(home, upstream, secret):
    r = call(home, {"service": "svc", "method": "GET", "path": "/v1/x", "headers": {"X-A": "1\r\nHost: evil"}})
    assert r.is_error and "invalid header" in text_of(r)
    assert upstream.requests == []


def test_redirect_to_another_origin_is_returned_not_followed(home, upstream, secret):
    with Upstream() as evil:
        r = call(home, {"service": "svc", "method": "GET", "path": f"/redirect?to={evil.origin}/steal"})
        assert not r.is_error
        assert structured(r)["status"] == 302
        assert structured(r)["headers"]["location"] == f"{evil.origin}/steal"
        assert evil.requests == [], "the redirect was followed"


@pytest.mark.parametrize("endpoint", ["/split", "/big?n=3000000", "/encoded", "/status-leak", "/cookie"])
def test_leaked_values_and_their_encodings_are_scrubbed(home, upstream, secret, endpoint):
    r = call(home, {"service": "svc", "method": "GET", "path": endpoint})
    out = text_of(r) + json.dumps(structured(r))
    raw = secret.encode()
    forms = [
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        "".join(f"%{b:02X}" for b in raw),
    ]
    for f in forms:
        assert f not in out, f"{endpoint} leaked a form of the secret"
    assert "[REDACTED]" in out
    if endpoint == "/cookie":
        assert "set-cookie" not in structured(r)["headers"]
    if endpoint == "/status-leak":
        assert structured(r)["status"] == 500


def test_binary_body_is_scrubbed_then_base64(home, upstream, secret):
    r = call(home, {"service": "svc", "method": "GET", "path": "/binary"})
    s = structured(r)
    assert s["body_base64"] is True
    body = base64.b64decode(s["body"])
    assert secret.encode() not in body and b"[REDACTED]" in body


def test_compressed_body_that_cannot_be_scrubbed_is_withheld(home, upstream, secret):
    r = call(home, {"service": "svc", "method": "GET", "path": "/gzip"})
    assert r.is_error and "cannot scrub" in text_of(r)


def test_limits_and_timeouts_give_clear_errors(home, upstream, secret):
    home.write_config(
        config(upstream.origin, auth='{ type = "bearer", secret = "svc_token" }')
        + '\n[limits]\ntimeout = "1s"\nmax_request_bytes = 100\nmax_response_bytes = 1000\n'
    )
    r = call(home, {"service": "svc", "method": "GET", "path": "/slow?s=3"})
    assert r.is_error and "timed out" in text_of(r)
    r = call(home, {"service": "svc", "method": "POST", "path": "/v1/x", "body": "x" * 101})
    assert r.is_error and "over the limit" in text_of(r)
    r = call(home, {"service": "svc", "method": "GET", "path": "/big?n=5000"})
    assert not r.is_error and structured(r)["truncated"] is True
    assert len(structured(r)["body"]) <= 1000


def test_json_body_and_post(home, upstream, secret):
    r = call(home, {"service": "svc", "method": "POST", "path": "/v1/charges", "json": {"amount": 5}})
    seen = upstream.requests[-1]
    assert seen["method"] == "POST" and json.loads(seen["body"]) == {"amount": 5}
    assert ["content-type", "application/json"] in [[k.lower(), v] for k, v in seen["headers"]]
    assert not r.is_error


@pytest.mark.parametrize(
    "auth,check",
    [
        ('{ type = "header", name = "X-Api-Key", secret = "svc_token" }', "header"),
        ('{ type = "query", name = "api_key", secret = "svc_token" }', "query"),
        ('{ type = "basic", username = "bob", secret = "svc_token" }', "basic"),
    ],
)
def test_every_auth_type_attaches_and_scrubs(home, upstream, secret, auth, check):
    home.write_config(config(upstream.origin, auth=auth))
    r = call(home, {"service": "svc", "method": "GET", "path": "/v1/x?api_key=attacker"})
    assert not r.is_error, text_of(r)
    seen = upstream.requests[-1]
    headers = {k.lower(): v for k, v in seen["headers"]}
    if check == "header":
        assert headers["x-api-key"] == secret
    elif check == "query":
        assert seen["query"]["api_key"] == [secret], "agent's api_key must be replaced"
    else:
        token = base64.b64encode(f"bob:{secret}".encode()).decode()
        assert headers["authorization"] == f"Basic {token}"
    out = text_of(r) + json.dumps(structured(r))
    assert secret not in out
    assert base64.b64encode(f"bob:{secret}".encode()).decode() not in out


def test_env_reference_resolves_and_is_scrubbed(home, upstream):
    value = canary("env")
    upstream.leak = value
    home.env["SVC_TOKEN_FROM_ENV"] = value
    home.write_config(config(upstream.origin, auth='{ type = "bearer", secret = "env://SVC_TOKEN_FROM_ENV" }'))
    r = call(home, {"service": "svc", "method": "GET", "path": "/v1/x"})
    assert not r.is_error, text_of(r)
    assert [v for k, v in upstream.requests[-1]["headers"] if k.lower() == "authorization"] == [f"Bearer {value}"]
    assert value not in text_of(r)


def test_a_secret_of_another_service_is_scrubbed_too(home, upstream, secret):
    other = canary("other")
    home.set_secret("unrelated", other)
    upstream.leak = other
    r = call(home, {"service": "svc", "method": "GET", "path": "/status-leak"})
    assert other not in text_of(r)


def test_rate_limit_per_agent(home, upstream, secret):
    extra = """
[[services.svc.rules]]
action = "allow"
methods = ["GET"]
paths = ["/v1/limited"]
rate = "3/minute"
"""
    home.write_config(config(upstream.origin, auth='{ type = "bearer", secret = "svc_token" }', extra=extra))

    async def go(client):
        return [await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/limited"}) for _ in range(5)]

    results = mcp_call(home, go)
    assert [r.is_error for r in results] == [False, False, False, True, True]
    assert "rate limited" in text_of(results[3]) and "retry in" in text_of(results[3])
    assert len(upstream.requests) == 3
    assert [rec["decision"] for rec in home.audit()][-2:] == ["rate_limited", "rate_limited"]


def test_bad_arguments_are_tool_errors_and_the_server_keeps_answering(home, upstream, secret):
    async def go(client):
        out = [
            await client.call_tool("http_request", {"service": 5, "method": "GET", "path": "/v1/x"}),
            await client.call_tool("http_request", {"service": "svc"}),
            await client.call_tool("http_request", {"service": "nope", "method": "GET", "path": "/"}),
            await client.call_tool("http_request", {"service": "svc", "method": "GE T", "path": "/v1/x"}),
            await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/x", "body": "a", "json": 1}),
            await client.call_tool("no_such_tool", {}),
            await client.call_tool("http_request", {"service": "svc", "method": "GET", "path": "/v1/ok"}),
        ]
        return out

    results = mcp_call(home, go)
    assert all(r.is_error for r in results[:-1])
    assert "unknown service `nope`; known services: svc" in text_of(results[2])
    assert not results[-1].is_error


def test_a_new_name_on_every_request_does_not_reset_the_rate_limit(home, upstream, secret):
    """Regression: on 2026-07-28 sessions clientInfo rides on each request's
    _meta; an agent renaming itself per call must not get a fresh budget.
    Raw JSON-RPC, because the SDK client always stamps its own clientInfo."""
    import subprocess

    from conftest import KEYWARD

    extra = """
[[services.svc.rules]]
action = "allow"
methods = ["GET"]
paths = ["/v1/limited"]
rate = "2/minute"
"""
    home.write_config(config(upstream.origin, auth='{ type = "bearer", secret = "svc_token" }', extra=extra))
    lines = []
    for i in range(4):
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": f"agent-{i}", "version": "1"},
        }
        params = {"name": "http_request", "_meta": meta,
                  "arguments": {"service": "svc", "method": "GET", "path": "/v1/limited"}}
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": params}))
    p = subprocess.run([KEYWARD, "serve"], input="\n".join(lines) + "\n", capture_output=True, text=True, env=home.env, timeout=30)
    results = {m["id"]: m for m in map(json.loads, p.stdout.splitlines()) if "id" in m}
    assert sorted(results) == [1, 2, 3, 4], p.stdout
    errors = [results[i]["result"].get("isError", False) for i in (1, 2, 3, 4)]
    assert errors == [False, False, True, True]
    agents = {rec["agent"] for rec in home.audit()}
    assert agents == {"agent-0 1"}, agents


def test_review_findings_are_pinned(home, upstream, secret):
    """Regressions from the security review: CONNECT/TRACE never sent;
    underscore and path-override headers dropped; header names carrying a
    secret dropped; agent text in the audit escaped and capped."""
    import subprocess

    async def go(client):
        out = {}
        for m in ["CONNECT", "TRACE"]:
            out[m] = await client.call_tool("http_request", {"service": "svc", "method": m, "path": "/v1/x"})
        out["headers"] = await client.call_tool("http_request", {
            "service": "svc", "method": "GET", "path": "/v1/x",
            "headers": {"X_HTTP_METHOD_OVERRIDE": "DELETE", "X-Original-URL": "/v1/admin/users",
                        "X-Rewrite-URL": "/v1/admin", "X_Forwarded_Host": "evil"}})
        out["forged"] = await client.call_tool("http_request", {
            "service": "svc", "method": "GET\n#999 2026-01-01 00:00:00 allow", "path": "/v1/x"})
        out["huge"] = await client.call_tool("http_request", {
            "service": "x" * 200_000, "method": "GET", "path": "/v1/x"})
        return out

    out = mcp_call(home, go)
    for m in ["CONNECT", "TRACE"]:
        assert out[m].is_error and f"does not send {m}" in text_of(out[m])
    assert not out["headers"].is_error, text_of(out["headers"])
    seen = {k.lower() for k, _ in upstream.requests[-1]["headers"]}
    assert not seen & {"x-http-method-override", "x_http_method_override", "x-original-url", "x-rewrite-url", "x_forwarded_host"}, seen
    assert len(upstream.requests) == 1, "a refused method reached the upstream"
    assert len(text_of(out["huge"])) < 1000
    log = (home.dir / "audit.jsonl").read_text()
    assert len(log) < 20_000, "one call grew the audit log by the agent's input size"
    printed = home.run("audit").stdout
    assert "\n#999" not in printed and "#999" in printed


def test_a_secret_in_a_response_header_name_drops_the_header(home, upstream, secret):
    r = call(home, {"service": "svc", "method": "GET", "path": "/header-name-leak"})
    assert not r.is_error
    assert secret not in text_of(r) + json.dumps(structured(r))
    assert structured(r)["headers"]["x-fine"] == "yes"
    assert not [k for k in structured(r)["headers"] if k.startswith("x-token")], "the header was kept"


@pytest.mark.parametrize("endpoint", ["/hexdump", "/b64dump", "/php-json"])
@pytest.mark.parametrize("password", ["kw_canary_pw96c03cd4?Q?31cc/20eb", "kwcanaryalnum0123456789abcdef"])
def test_basic_auth_header_value_is_scrubbed_in_every_reflection(home, upstream, endpoint, password):
    """Regression (review finding 1): hex or base64 dumps of the request head,
    or PHP-style JSON, gave the agent the whole Basic header value."""
    home.set_secret("pw", password)
    home.write_config(config(upstream.origin, auth='{ type = "basic", username = "bot", secret = "pw" }',
                             extra='[[services.svc.rules]]\naction = "allow"\npaths = ["/hexdump", "/b64dump", "/php-json"]\n'))
    r = call(home, {"service": "svc", "method": "GET", "path": endpoint})
    assert not r.is_error, text_of(r)
    body = structured(r)["body"]
    token = base64.b64encode(f"bot:{password}".encode()).decode()
    decoded = bytes.fromhex(body).decode("latin-1") if endpoint == "/hexdump" and "[REDACTED]" not in body else body
    for form in [token, password, token.replace("/", "\\/")]:
        assert form not in body and form not in decoded, (endpoint, body[:200])
    if endpoint == "/b64dump":
        assert token not in base64.b64decode(body + "===", validate=False).decode("latin-1", "replace") if "[REDACTED]" not in body else True
    assert "[REDACTED]" in body
