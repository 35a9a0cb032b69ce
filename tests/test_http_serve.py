"""`keyward serve --http`: one service for many agents, each with its own
bearer token; `keyward connect` bridging stdio clients to it. The real
binary, the official Python MCP SDK in both its modes (the initialize
handshake, 2025-11-25; and the default, 2026-07-28), and a real HTTP
upstream on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import anyio
import pytest

from conftest import KEYWARD, canary, open_service, text_of
from http_service import (
    INITIALIZE,
    RawSession,
    Service,
    add_agent,
    connect_client,
    http_client,
    mcp_http,
    raw_post,
    raw_request,
    run_file,
)

MODES = ["legacy", "auto"]
NEGOTIATED = {"legacy": "2025-11-25", "auto": "2026-07-28"}
GET = {"service": "s", "method": "GET", "path": "/v1/thing"}


@pytest.fixture
def svc(home, upstream):
    """A home with one service (bearer credential from the vault)."""
    home.set_secret("tok", canary("svc"))
    home.write_config(open_service(upstream.origin, secret="tok"))
    return home


def limited_config(origin: str) -> str:
    return (
        open_service(origin, secret="tok")
        + '[[services.s.rules]]\naction = "allow"\nmethods = ["GET"]\npaths = ["/v1/limited"]\nrate = "2/minute"\n'
    )


LIMITED = {"service": "s", "method": "GET", "path": "/v1/limited"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", MODES)
def test_both_protocol_modes_and_the_audit_names_the_token_not_the_client(svc, upstream, mode):
    alice, bob = add_agent(svc, "alice"), add_agent(svc, "bob")
    with Service(svc) as s:

        async def go(c):
            tools = [t.name for t in (await c.list_tools()).tools]
            r = await c.call_tool("http_request", GET)
            return c.session.protocol_version, tools, r

        version, tools, r = mcp_http(s.url, alice, go, mode=mode, client_name="claims-to-be-root")
        _, _, r2 = mcp_http(s.url, bob, go, mode=mode, client_name="alice")
    assert version == NEGOTIATED[mode]
    assert {"list_services", "http_request"} <= set(tools)
    assert not r.is_error and not r2.is_error, (text_of(r), text_of(r2))
    assert len(upstream.requests) == 2
    agents = [rec["agent"] for rec in svc.audit() if rec.get("kind") == "http"]
    assert agents == ["alice", "bob"], svc.audit()


def test_missing_or_wrong_token_is_401_with_a_bearer_challenge(svc):
    alice = add_agent(svc, "alice")
    with Service(svc) as s:
        status, headers, body = raw_post(s.addr, {})
        assert status == 401 and headers["www-authenticate"].startswith("Bearer"), (status, headers)
        assert "keyward agent add" in body
        wrong = alice[:-2] + ("AA" if not alice.endswith("AA") else "BB")
        for auth in [f"Bearer {wrong}", "Bearer ", f"Basic {alice}", f"Bearer {alice[4:]}"]:
            status, headers, _ = raw_post(s.addr, {"Authorization": auth})
            assert status == 401 and "Bearer" in headers["www-authenticate"], auth
        status, headers, body = raw_post(s.addr, {"Authorization": f"Bearer {alice}"})
        assert status == 200 and "mcp-session-id" in headers and '"serverInfo"' in body, (status, body)

        # The SDK client with a wrong token cannot get anywhere.
        async def go(c):
            return await c.call_tool("http_request", GET)

        with pytest.raises(Exception):
            mcp_http(s.url, wrong, go, mode="legacy")
    # The token is in no file keyward wrote (only its hash is kept).
    assert alice not in svc.all_files_text() and alice[4:] not in svc.all_files_text()


def test_foreign_host_or_origin_is_403(svc):
    alice = add_agent(svc, "alice")
    auth = {"Authorization": f"Bearer {alice}"}
    with Service(svc) as s:
        port = s.port
        refused = [
            {"Host": f"evil.example:{port}"},
            {"Host": "127.0.0.1:1"},
            {"Host": f"localhost.evil.example:{port}"},
            {"Origin": "http://evil.example"},
            {"Origin": f"http://evil.example:{port}"},
            {"Origin": "null"},
            {"Origin": f"https://127.0.0.1:{port}"},
        ]
        for extra in refused:
            for path in ["/mcp", "/healthz"]:
                status, _, body = raw_post(s.addr, {**auth, **extra}, path=path)
                assert status == 403, (extra, path, status, body)
        # Before authentication: a rebinding page without a token gets 403, not 401.
        assert raw_post(s.addr, {"Host": f"evil.example:{port}"})[0] == 403
        for ok in [{}, {"Host": f"localhost:{port}"}, {"Origin": f"http://127.0.0.1:{port}"}, {"Origin": f"http://localhost:{port}"}]:
            status, _, body = raw_post(s.addr, {**auth, **ok})
            assert status == 200 and '"serverInfo"' in body, (ok, status, body)


def test_two_clients_share_one_rate_budget_and_one_agent_each(home, upstream):
    home.set_secret("tok", canary("svc"))
    home.write_config(limited_config(upstream.origin))
    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    with Service(home) as s:

        async def main():
            async with http_client(s.url, alice, mode="legacy") as a1, http_client(s.url, alice, mode="auto") as a2:
                r1 = await a1.call_tool("http_request", LIMITED)
                r2 = await a2.call_tool("http_request", LIMITED)
                # alice's third call, from either client, is over her budget.
                r3 = await a1.call_tool("http_request", LIMITED)
                r4 = await a2.call_tool("http_request", LIMITED)
            async with http_client(s.url, bob, mode="auto") as b:
                r5 = await b.call_tool("http_request", LIMITED)
            return [r1, r2, r3, r4, r5]

        results = anyio.run(main)
    assert [r.is_error for r in results] == [False, False, True, True, False], [text_of(r) for r in results]
    assert "rate limited" in text_of(results[2])
    assert len(upstream.requests) == 3
    decisions = [(r["agent"], r["decision"]) for r in home.audit()]
    assert decisions.count(("alice", "rate_limited")) == 2 and ("bob", "allow") in decisions, decisions


@pytest.mark.parametrize("mode", MODES)
def test_connect_bridges_a_stdio_client_to_the_same_service(home, upstream, mode):
    home.set_secret("tok", canary("svc"))
    home.write_config(limited_config(upstream.origin))
    alice = add_agent(home, "alice")
    with Service(home) as s:
        first = mcp_http(s.url, alice, lambda c: c.call_tool("http_request", LIMITED), mode="legacy")

        async def main():
            async with connect_client(home, alice, mode=mode) as c:
                tools = [t.name for t in (await c.list_tools()).tools]
                second = await c.call_tool("http_request", LIMITED)
                third = await c.call_tool("http_request", LIMITED)
                return c.session.protocol_version, tools, second, third

        version, tools, second, third = anyio.run(main)
    assert version == NEGOTIATED[mode]
    assert "http_request" in tools
    assert not first.is_error and not second.is_error, text_of(second)
    # The HTTP client and the bridged stdio client spend one budget.
    assert third.is_error and "rate limited" in text_of(third)
    assert len(upstream.requests) == 2
    assert {r["agent"] for r in home.audit() if r.get("kind") == "http"} == {"alice"}


def test_connect_starts_the_service_when_none_runs_and_it_stops_cleanly(svc, upstream):
    alice = add_agent(svc, "alice")
    port = free_port()

    async def main():
        async with connect_client(svc, alice, mode="auto", args=("--addr", f"127.0.0.1:{port}")) as c:
            return await c.call_tool("http_request", GET)

    try:
        r = anyio.run(main)
        assert not r.is_error, text_of(r)
        info = json.loads(run_file(svc).read_text())
        assert info["addr"] == f"127.0.0.1:{port}"
        assert oct(run_file(svc).stat().st_mode & 0o777) == "0o600"
        # It outlives the bridge, for the next client.
        r2 = mcp_http(f"http://127.0.0.1:{port}/mcp", alice, lambda c: c.call_tool("http_request", GET))
        assert not r2.is_error
    finally:
        info = json.loads(run_file(svc).read_text()) if run_file(svc).exists() else None
        if info:
            os.kill(info["pid"], signal.SIGTERM)
    log_file = svc.dir / "run" / "http.log"
    deadline = time.monotonic() + 15
    while "keyward: stopped" not in log_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not run_file(svc).exists(), "run/http.json is removed on a clean shutdown"
    log = log_file.read_text()
    assert "serving MCP at" in log and "stopped" in log
    assert alice not in log and alice not in svc.all_files_text()


def test_connect_fails_clearly_when_the_vault_needs_a_prompt(home):
    alice = add_agent(home, "alice")
    env = {k: v for k, v in home.env.items() if k != "KEYWARD_VAULT_KEY_FILE"}
    env["KEYWARD_AGENT_TOKEN"] = alice
    p = subprocess.run(
        [KEYWARD, "connect", "--addr", f"127.0.0.1:{free_port()}"],
        input="", capture_output=True, text=True, env=env, timeout=90,
    )
    assert p.returncode == 2, p
    assert "could not start" in p.stderr and "cannot unlock the vault" in p.stderr, p.stderr
    assert not run_file(home).exists()


def test_connect_without_a_token_or_with_a_revoked_one(svc):
    p = subprocess.run([KEYWARD, "connect", "--no-start"], input="", capture_output=True, text=True, env=svc.env, timeout=30)
    assert p.returncode == 2 and "KEYWARD_AGENT_TOKEN" in p.stderr, p.stderr
    alice = add_agent(svc, "alice")
    with Service(svc):
        svc.run("agent", "rm", "alice")
        # Raw JSON-RPC on connect's stdin: the client gets an answer (an
        # error naming the token), not silence.
        p = subprocess.run(
            [KEYWARD, "connect", "--no-start"],
            input=INITIALIZE + "\n",
            capture_output=True, text=True, env=dict(svc.env, KEYWARD_AGENT_TOKEN=alice), timeout=30,
        )
    answers = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert len(answers) == 1 and answers[0]["id"] == 1, p
    assert "refused the agent token" in answers[0]["error"]["message"], answers
    assert alice not in p.stdout + p.stderr


def test_agent_rm_revokes_without_a_restart(svc, upstream):
    alice, bob = add_agent(svc, "alice"), add_agent(svc, "bob")
    with Service(svc) as s:

        async def main():
            async with http_client(s.url, alice, mode="legacy") as a:
                ok = await a.call_tool("http_request", GET)
                svc.run("agent", "rm", "alice")
                try:
                    await a.call_tool("http_request", GET)
                    after = "answered"
                except Exception as e:  # the open session's next request is refused
                    after = type(e).__name__
                return ok, after

        ok, after = anyio.run(main)
        assert not ok.is_error and after != "answered"
        assert raw_post(s.addr, {"Authorization": f"Bearer {alice}"})[0] == 401
        assert raw_post(s.addr, {"Authorization": f"Bearer {bob}"})[0] == 200
    assert len(upstream.requests) == 1


def test_agent_commands(home):
    token = add_agent(home, "claude-code")
    assert len(token) == len("kwa_") + 43
    listing = home.run("agent", "list").stdout
    assert "claude-code" in listing and token not in listing and token[4:] not in listing
    dup = home.run("agent", "add", "claude-code", check=False)
    assert dup.returncode == 2 and "exists already" in dup.stderr and dup.stdout == ""
    bad = home.run("agent", "add", "no spaces", check=False)
    assert bad.returncode == 2 and "invalid agent name" in bad.stderr
    assert home.run("agent", "rm", "nobody", check=False).returncode == 2
    home.run("agent", "rm", "claude-code")
    assert "claude-code" not in home.run("agent", "list").stdout
    assert token not in home.all_files_text()
    mode = (home.dir / "agents.json").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_non_loopback_address_needs_allow_remote(home):
    p = home.run("serve", "--http", "0.0.0.0:0", check=False)
    assert p.returncode == 2 and "not a loopback address" in p.stderr and "--allow-remote" in p.stderr
    assert not run_file(home).exists()


def test_a_second_service_is_refused(svc):
    with Service(svc) as s:
        p = svc.run("serve", "--http", "127.0.0.1:0", check=False)
        assert p.returncode == 2 and "already runs" in p.stderr and s.addr in p.stderr


def test_tools_list_changed_reaches_every_session(home):
    """A rotated secret restarts the upstream that uses it; every connected
    session is told its tool list changed (and the refresh task runs for
    the service, or nothing would notice the rotation)."""
    from test_upstream_events import EVERYTHING

    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")
    home.set_secret("ev_token", canary("ev"))
    home.write_config(f"""
[servers.ev]
command = "{EVERYTHING}"
args = ["stdio"]
env = {{ EV_TOKEN = "keyward://ev_token" }}
[servers.ev.tools]
"echo" = "allow"
""")
    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    # Two initialize-sessions (notifications on their streams) and one
    # 2026-07-28 client (notifications only on its subscriptions/listen).
    seen: dict[str, list[str]] = {"alice": [], "bob": [], "modern": []}

    def handler(name):
        async def on_message(message):
            method = getattr(getattr(message, "root", message), "method", None)
            if method:
                seen[name].append(method)

        return on_message

    def all_told():
        return all("notifications/tools/list_changed" in v for v in seen.values())

    with Service(home) as s:

        async def main():
            async with http_client(s.url, alice, message_handler=handler("alice")) as a, http_client(
                s.url, bob, message_handler=handler("bob")
            ) as b, http_client(s.url, bob, mode="auto") as m:
                await a.list_tools()
                await b.list_tools()
                r = await a.call_tool("ev__echo", {"message": "hi"})
                async with m.listen(tools_list_changed=True) as sub:
                    assert sub.honored.tools_list_changed, sub.honored

                    async def modern():
                        async for event in sub:
                            seen["modern"].append("notifications/tools/list_changed")
                            return event

                    async with anyio.create_task_group() as tg:
                        tg.start_soon(modern)
                        for who in seen:
                            seen[who].clear()
                        home.run("secret", "rotate", "ev_token", input=canary("ev2") + "\n")
                        with anyio.move_on_after(20):
                            while not all_told():
                                await anyio.sleep(0.1)
                        tg.cancel_scope.cancel()
                return r

        r = anyio.run(main)
    assert not r.is_error, text_of(r)
    assert all_told(), seen


@pytest.mark.parametrize("via", ["http", "connect"])
@pytest.mark.parametrize("mode", MODES)
def test_a_confirm_asks_the_calling_client_through_the_service_and_the_bridge(home, upstream, via, mode):
    """elicitation/create on initialize-sessions (a server-to-client request
    on the session's stream, and the answer posted back — through `keyward
    connect` too), the input_required retry on 2026-07-28; the question
    names the token's agent."""
    from test_approvals import answering, confirm_config, posts, refund

    home.set_secret("pay_token", canary("pay"))
    home.write_config(confirm_config(upstream.origin, "pay_token"))
    alice = add_agent(home, "alice")
    seen: list = []
    with Service(home) as s:

        async def main():
            cb = answering("once", seen=seen)
            if via == "http":
                cm = http_client(s.url, alice, mode=mode, elicitation_callback=cb)
            else:
                cm = connect_client(home, alice, mode=mode, elicitation_callback=cb)
            async with cm as c:
                return await refund(c)

        r = anyio.run(main)
    assert not r.is_error, text_of(r)
    assert len(seen) == 1 and "agent `alice`" in seen[0].message, seen
    assert len(posts(upstream)) == 1


def test_keyward_approve_answers_a_call_held_by_the_service_and_two_clients_share_the_queue(home, upstream):
    """The approval queue is the service's: `keyward approvals` lists the
    questions of two clients (one of them bridged by `keyward connect`),
    `keyward approve` lets one through, `keyward deny` refuses the other."""
    import threading

    from test_approvals import PASS, confirm_config, posts, refund, wait_pending

    home.set_secret("pay_token", canary("pay"))
    home.write_config(confirm_config(upstream.origin, "pay_token"))
    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    results: dict[str, object] = {}

    def held(name, cm_factory):
        async def main():
            async with cm_factory() as c:  # no elicitation: the CLI answers
                return await refund(c, reason=f"asked by {name}")

        def run():
            try:
                results[name] = anyio.run(main)
            except BaseException as e:  # noqa: BLE001 - checked below
                results[name] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    with Service(home) as s:
        ta = held("alice", lambda: http_client(s.url, alice, mode="auto"))
        [qa] = wait_pending(home, 1)
        tb = held("bob", lambda: connect_client(home, bob, mode="legacy"))
        ids = wait_pending(home, 2)
        listing = home.run("approvals").stdout
        assert "asked by alice" in listing and "asked by bob" in listing, listing
        [qb] = [i for i in ids if i != qa]
        home.run("approve", qa, env=PASS)
        home.run("deny", qb)
        ta.join(60)
        tb.join(60)
    ra, rb = results["alice"], results["bob"]
    assert not isinstance(ra, BaseException) and not ra.is_error, ra
    assert not isinstance(rb, BaseException) and rb.is_error and "denied" in text_of(rb), rb
    assert len(posts(upstream)) == 1
    answers = [(a["agent"], a.get("decision"), a.get("channel")) for a in home.audit() if a["kind"] == "approval"]
    assert any(a[0] == "alice" and a[2] == "cli" for a in answers), answers
    assert any(a[0] == "bob" for a in answers), answers


REFUND = {"service": "pay", "method": "POST", "path": "/refunds/42", "body": "amount=5", "reason": "customer asked"}
BALANCE = {"service": "pay", "method": "GET", "path": "/balance"}


def held_call(session: RawSession, results: list):
    """Starts `session`'s refund (held for a human) in a thread."""
    import threading

    t = threading.Thread(target=lambda: results.append(session.call_tool("http_request", REFUND)), daemon=True)
    t.start()
    return t


def result_text(answer) -> str:
    status, msg = answer
    assert status == 200 and msg and "result" in msg, answer
    return " ".join(c.get("text", "") for c in msg["result"]["content"])


def grant_for_the_session(home, session: RawSession) -> None:
    """A held refund in `session`, allowed by the human until the session ends."""
    from test_approvals import PASS, wait_pending

    results: list = []
    t = held_call(session, results)
    [q] = wait_pending(home, 1)
    home.run("approve", q, "--session", env=PASS)
    t.join(30)
    assert "HTTP 200" in result_text(results[0]), results


def no_grants_left(home, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "no grants" in home.run("grants").stdout:
            return True
        time.sleep(0.1)
    return False


def test_another_agents_token_cannot_use_read_or_end_a_session(home, upstream):
    """Issue 10 item 6: bob's token with alice's `Mcp-Session-Id` gets the
    404 of an unknown session on POST, the GET stream and DELETE; alice's
    session and its session grant survive bob's DELETE."""
    from test_approvals import confirm_config, posts

    home.set_secret("pay_token", canary("pay"))
    home.write_config(confirm_config(upstream.origin, "pay_token"))
    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    with Service(home) as s:
        a = RawSession(s.addr, alice).open()
        grant_for_the_session(home, a)
        assert "session" in home.run("grants").stdout

        unknown = RawSession(s.addr, bob)
        unknown.id = "0" * 32
        not_found = unknown.request("tools/list")
        assert not_found[0] == 404, not_found
        for what, answer in [
            ("call", a.call_tool("http_request", BALANCE, token=bob)),
            ("list", a.request("tools/list", token=bob)),
            ("GET stream", a.get_stream(token=bob)),
            ("DELETE", a.delete(token=bob)),
        ]:
            assert answer == not_found, (what, answer)
        assert unknown.get_stream()[0] == 404 and unknown.delete()[0] == 404

        # alice's session is still hers, with its grant: a refund passes unasked.
        assert a.get_stream()[0] == 200
        assert "HTTP 200" in result_text(a.call_tool("http_request", REFUND))
        assert home.run("approvals").stdout.count("agent") == 0
        assert "session" in home.run("grants").stdout
        # She can end it herself; then it is gone for her too, and so is the grant.
        assert a.delete()[0] in (200, 202)
        assert a.request("tools/list")[0] == 404
        assert no_grants_left(home)
    assert len(posts(upstream)) == 2 and [r for r in upstream.requests if r["method"] == "GET"] == []
    assert [r for r in home.audit() if r.get("agent") == "bob"] == [], "bob did nothing"


def test_sessions_per_agent_are_capped_and_the_oldest_idle_is_evicted(home, upstream):
    """Issue 10 item 7: `[http] max_sessions_per_agent = 3`; a fourth
    initialize closes alice's least recently used idle session (its session
    grant ends as on DELETE); bob's sessions are not touched; a session with
    a call in flight is not the one closed."""
    from test_approvals import confirm_config

    home.set_secret("pay_token", canary("pay"))
    home.write_config(confirm_config(upstream.origin, "pay_token") + "\n[http]\nmax_sessions_per_agent = 3\n")
    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    with Service(home) as s:
        s1, s2, s3 = (RawSession(s.addr, alice).open() for _ in range(3))
        b1 = RawSession(s.addr, bob).open()
        grant_for_the_session(home, s2)
        assert s3.request("tools/list")[0] == 200
        assert s1.request("tools/list")[0] == 200
        # s2 is now alice's least recently used session.
        s4 = RawSession(s.addr, alice).open()
        assert s2.request("tools/list")[0] == 404
        assert no_grants_left(home), "the closed session's grant ended"
        for x in (s1, s3, s4, b1):
            assert x.request("tools/list")[0] == 200
        assert s2.delete()[0] == 404

        # However many initializes, alice holds three.
        more = [RawSession(s.addr, alice).open() for _ in range(10)]
        alive = [x for x in (s1, s3, s4, *more) if x.request("tools/list")[0] == 200]
        assert alive == more[-3:], [x.id for x in alive]
        assert b1.request("tools/list")[0] == 200

        # A session with a call in flight (held for a human) is not idle:
        # the next one closed is the least recently used idle one.
        oldest, middle, newest = more[-3:]
        results: list = []
        t = held_call(oldest, results)
        from test_approvals import wait_pending

        [q] = wait_pending(home, 1)
        assert middle.request("tools/list")[0] == 200
        assert newest.request("tools/list")[0] == 200
        # oldest is the least recently used, but busy.
        RawSession(s.addr, alice).open()
        assert middle.request("tools/list")[0] == 404
        assert newest.request("tools/list")[0] == 200
        home.run("deny", q)
        t.join(30)
        assert "denied" in result_text(results[0])
        assert oldest.request("tools/list")[0] == 200
