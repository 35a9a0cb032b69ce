"""Confirm rules hold the call for a human: MCP elicitation in both wire
forms (elicitation/create on 2025-11-25, the input_required retry on
2026-07-28) with the real Python SDK, and `keyward approvals/approve/deny`,
grants, request_access and the lock through the control socket."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import anyio
import pytest
from mcp import types

from conftest import KEYWARD, canary, fake_listener, mcp_call, text_of

PASS = {"KEYWARD_PASSPHRASE": "correct horse battery staple"}


def confirm_config(origin: str, secret: str, *, timeout: str = "20s") -> str:
    return f"""
[approvals]
timeout = "{timeout}"
notify = false

[services.pay]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "{secret}" }}

[[services.pay.rules]]
action = "allow"
methods = ["GET"]
paths = ["/**"]

[[services.pay.rules]]
action = "confirm"
methods = ["POST"]
paths = ["/refunds/**"]
"""


@pytest.fixture
def pay(home, upstream):
    token = canary("paytoken")
    home.set_secret("pay_token", token)
    home.write_config(confirm_config(upstream.origin, "pay_token"))
    return token


def refund(client, reason="customer asked", body="amount=5"):
    return client.call_tool(
        "http_request",
        {"service": "pay", "method": "POST", "path": "/refunds/42", "body": body, "reason": reason},
    )


def answering(decision: str | None, action: str = "accept", seen: list | None = None, delay: float = 0):
    async def cb(context, params):
        if seen is not None:
            seen.append(params)
        if delay:
            await anyio.sleep(delay)
        if action != "accept":
            return types.ElicitResult(action=action)
        return types.ElicitResult(action="accept", content={"decision": decision})

    return cb


def posts(upstream) -> list[dict]:
    return [r for r in upstream.requests if r["method"] == "POST"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_elicitation_accept_once_lets_the_held_call_through(home, upstream, pay, mode):
    seen: list = []

    async def calls(client):
        return await refund(client, reason="refund order 42")

    r = mcp_call(home, calls, mode=mode, elicitation_callback=answering("once", seen=seen))
    assert not r.is_error, text_of(r)
    assert "HTTP 200" in text_of(r)
    assert len(posts(upstream)) == 1, "the call was made exactly once"
    # The question named the call, the rule and the agent's reason.
    assert len(seen) == 1
    msg = seen[0].message
    assert "POST /refunds/42" in msg and "refund order 42" in msg and "confirm" in msg
    audit = home.audit()
    asked = [a for a in audit if a["kind"] == "approval" and a["decision"] == "asked"]
    answered = [a for a in audit if a["kind"] == "approval" and a["decision"] != "asked"]
    assert len(asked) == 1 and len(answered) == 1
    assert answered[0]["channel"] == "elicitation"
    call = [a for a in audit if a["kind"] == "http"][-1]
    assert call["decision"] == "allow" and call["approval"] == asked[0]["approval"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("action", ["decline", "cancel"])
def test_elicitation_decline_or_cancel_denies(home, upstream, pay, mode, action):
    async def calls(client):
        return await refund(client)

    r = mcp_call(home, calls, mode=mode, elicitation_callback=answering(None, action=action))
    assert r.is_error
    assert "declined" in text_of(r)
    assert posts(upstream) == []
    call = [a for a in home.audit() if a["kind"] == "http"][-1]
    assert call["decision"] == "deny" and call["channel"] == "elicitation"


def test_accepting_with_a_choice_not_offered_denies(home, upstream, pay):
    async def calls(client):
        return await refund(client)

    r = mcp_call(home, calls, elicitation_callback=answering("forever"))
    assert r.is_error and posts(upstream) == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_no_answer_within_the_timeout_denies_and_says_so(home, upstream, mode):
    token = canary("paytoken")
    home.set_secret("pay_token", token)
    home.write_config(confirm_config(upstream.origin, "pay_token", timeout="2s"))

    async def calls(client):
        return await refund(client)

    # The human never answers in the client (the form stays open past the
    # timeout).
    # On 2026-07-28 the late "accept" arrives with the retry, after the
    # timeout settled the question: it is too late.
    r = mcp_call(home, calls, mode=mode, elicitation_callback=answering("once", delay=6))
    assert r.is_error
    assert "nobody answered" in text_of(r) and "2s" in text_of(r)
    assert posts(upstream) == []
    answered = [a for a in home.audit() if a["kind"] == "approval" and a["decision"] != "asked"]
    assert answered[0]["channel"] == "timeout" and answered[0]["decision"] == "deny"


def test_a_duration_answer_creates_a_grant_that_answers_later_confirms(home, upstream, pay):
    seen: list = []

    async def calls(client):
        first = await refund(client)
        second = await refund(client, body="amount=6")
        return first, second

    first, second = mcp_call(home, calls, elicitation_callback=answering("5m", seen=seen))
    assert not first.is_error and not second.is_error
    assert len(seen) == 1, "the grant answered the second confirm"
    assert len(posts(upstream)) == 2
    calls_ = [a for a in home.audit() if a["kind"] == "http"]
    assert calls_[-1]["channel"].startswith("grant ")


def test_a_get_never_asks(home, upstream, pay):
    seen: list = []

    async def calls(client):
        return await client.call_tool("http_request", {"service": "pay", "method": "GET", "path": "/x"})

    r = mcp_call(home, calls, elicitation_callback=answering("once", seen=seen))
    assert not r.is_error and seen == []


def test_the_secret_never_reaches_the_question(home, upstream, pay):
    seen: list = []

    async def calls(client):
        return await refund(client, reason=f"token is {pay}", body=f"key={pay}")

    mcp_call(home, calls, elicitation_callback=answering("deny", seen=seen))
    msg = seen[0].message
    assert pay not in msg and "[REDACTED]" in msg
    assert pay not in home.all_files_text()


# --- the other channels: CLI through the control socket ------------------


class Held:
    """A `keyward serve` run by the SDK client in a thread, making one or
    more held calls, while the test answers from the CLI."""

    def __init__(self, home, calls, **kw):
        self.result = None
        self.error = None

        def run():
            try:
                self.result = mcp_call(home, calls, **kw)
            except BaseException as e:  # noqa: BLE001 - reported by join()
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout=60):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the held call never finished"
        if self.error:
            raise self.error
        return self.result


def wait_pending(home, n=1, timeout=30) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = home.run("approvals").stdout
        ids = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ") and "agent" in line]
        if len(ids) >= n:
            return ids
        time.sleep(0.1)
    raise AssertionError(f"no pending question appeared: {out}")


def test_cli_approve_needs_the_passphrase_and_then_lets_the_call_through(home, upstream, pay):
    held = Held(home, lambda c: refund(c))  # no elicitation: the CLI answers
    [qid] = wait_pending(home)
    out = home.run("approvals").stdout
    assert "POST /refunds/42" in out and "customer asked" in out

    # No passphrase (no terminal): refused before anything is sent.
    p = home.run("approve", qid, check=False)
    assert p.returncode != 0 and "passphrase" in p.stderr
    # A wrong one: refused by the serving keyward; still pending.
    p = home.run("approve", qid, env={"KEYWARD_PASSPHRASE": "wrong"}, check=False)
    assert p.returncode != 0 and "wrong passphrase" in p.stderr
    assert qid in home.run("approvals").stdout
    assert posts(upstream) == []

    home.run("approve", qid, env=PASS)
    r = held.join()
    assert not r.is_error, text_of(r)
    assert len(posts(upstream)) == 1
    answered = [a for a in home.audit() if a["kind"] == "approval" and a["decision"] != "asked"]
    assert answered[-1]["channel"] == "cli"
    assert any(a["decision"] == "wrong_passphrase" for a in home.audit())


def test_cli_deny_needs_no_passphrase(home, upstream, pay):
    held = Held(home, lambda c: refund(c))
    [qid] = wait_pending(home)
    home.run("deny", qid)
    r = held.join()
    assert r.is_error and "declined" in text_of(r) and "cli" in text_of(r)
    assert posts(upstream) == []


def test_grants_list_and_revoke(home, upstream, pay):
    async def calls(client):
        first = await refund(client)
        # Revoked meanwhile (below): asks again, and is denied.
        while not done.is_set():
            await anyio.sleep(0.05)
        return first, await refund(client)

    done = threading.Event()
    held = Held(home, calls)
    [qid] = wait_pending(home)
    home.run("approve", qid, "--for", "1h", env=PASS)
    deadline = time.time() + 20
    while "pay: POST /refunds/**" not in home.run("grants").stdout:
        assert time.time() < deadline
        time.sleep(0.1)
    out = home.run("grants").stdout
    gid = out.split()[0]
    assert "until" in out and "human via cli" in out
    home.run("grants", "revoke", gid)
    assert "no grants" in home.run("grants").stdout
    done.set()
    [qid2] = wait_pending(home)
    home.run("deny", qid2)
    first, second = held.join()
    assert not first.is_error and second.is_error


def test_lock_denies_waiting_calls_and_new_ones_until_unlock(home, upstream, pay):
    async def calls(client):
        waiting = await refund(client)
        while not locked.is_set():
            await anyio.sleep(0.05)
        get_locked = await client.call_tool("http_request", {"service": "pay", "method": "GET", "path": "/a"})
        while not unlocked.is_set():
            await anyio.sleep(0.05)
        get_open = await client.call_tool("http_request", {"service": "pay", "method": "GET", "path": "/b"})
        return waiting, get_locked, get_open

    locked, unlocked = threading.Event(), threading.Event()
    held = Held(home, calls)
    wait_pending(home)
    home.run("lock")
    locked.set()
    time.sleep(0.5)
    p = home.run("unlock", env={"KEYWARD_PASSPHRASE": "wrong"}, check=False)
    assert p.returncode != 0
    assert (home.dir / "locked").exists()
    home.run("unlock", env=PASS)
    assert not (home.dir / "locked").exists()
    unlocked.set()
    waiting, get_locked, get_open = held.join()
    assert waiting.is_error and "locked" in text_of(waiting)
    assert get_locked.is_error and "locked" in text_of(get_locked)
    assert not get_open.is_error, text_of(get_open)
    assert [r["path"] for r in upstream.requests] == ["/b"]


def test_a_lock_outlives_a_restart(home, upstream, pay):
    home.run("lock")

    async def calls(client):
        return await client.call_tool("http_request", {"service": "pay", "method": "GET", "path": "/a"})

    r = mcp_call(home, calls)
    assert r.is_error and "locked" in text_of(r)
    home.run("unlock", env=PASS)
    r = mcp_call(home, calls)
    assert not r.is_error


def test_request_access_asks_ahead_and_its_grant_answers_confirms(home, upstream, pay):
    async def calls(client):
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "request_access" in tools
        granted = await client.call_tool(
            "request_access",
            {
                "service": "pay",
                "methods": ["POST"],
                "paths": ["/refunds/**"],
                "duration": "5m",
                "reason": "refund the three orders of ticket 7",
            },
        )
        return granted, await refund(client)

    seen: list = []
    granted, r = mcp_call(home, calls, elicitation_callback=answering("once", seen=seen))
    assert not granted.is_error, text_of(granted)
    assert "granted" in text_of(granted)
    assert len(seen) == 1 and "ticket 7" in seen[0].message
    assert not r.is_error, "the grant answered the refund's confirm"
    assert len(posts(upstream)) == 1


def test_request_access_never_opens_what_a_rule_denies(home, upstream):
    token = canary("paytoken")
    home.set_secret("pay_token", token)
    home.write_config(
        confirm_config(upstream.origin, "pay_token")
        + '\n[[services.pay.rules]]\naction = "deny"\nmethods = ["DELETE"]\npaths = ["/**"]\n'
    )

    async def calls(client):
        g = await client.call_tool(
            "request_access",
            {"service": "pay", "methods": ["DELETE", "POST"], "paths": ["/**"], "duration": "1h", "reason": "x"},
        )
        d = await client.call_tool("http_request", {"service": "pay", "method": "DELETE", "path": "/refunds/1"})
        return g, d

    g, d = mcp_call(home, calls, elicitation_callback=answering("1h"))
    assert not g.is_error
    assert d.is_error and "denied" in text_of(d)
    assert upstream.requests == []


# --- one `keyward serve --http` for several agents ------------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_elicitation_over_http_on_both_wire_forms(home, upstream, pay, mode):
    from http_service import Service, add_agent, mcp_http

    alice = add_agent(home, "alice")
    seen: list = []
    with Service(home) as s:
        r = mcp_http(s.url, alice, lambda c: refund(c), mode=mode, elicitation_callback=answering("once", seen=seen))
    assert not r.is_error, text_of(r)
    assert len(seen) == 1 and "alice" in seen[0].message
    assert len(posts(upstream)) == 1
    call = [a for a in home.audit() if a["kind"] == "http"][-1]
    assert call["agent"] == "alice" and call["channel"] == "elicitation"


def test_two_agents_on_one_service_share_one_approval_queue(home, upstream, pay):
    from http_service import Service, add_agent, http_client

    alice, bob = add_agent(home, "alice"), add_agent(home, "bob")
    with Service(home) as s:
        results: dict = {}

        def client(name, token):
            async def main():
                async with http_client(s.url, token, mode="auto") as c:
                    results[name] = await refund(c, reason=f"{name} asks")

            anyio.run(main)

        threads = [threading.Thread(target=client, args=a, daemon=True) for a in [("alice", alice), ("bob", bob)]]
        for t in threads:
            t.start()
        ids = wait_pending(home, n=2)
        listing = home.run("approvals").stdout
        by_agent = {
            line.split()[2]: line.split()[0] for line in listing.splitlines() if line and not line.startswith(" ") and "agent" in line
        }
        assert set(by_agent) == {"alice", "bob"} and set(by_agent.values()) == set(ids), listing
        home.run("approve", by_agent["alice"], env=PASS)
        home.run("deny", by_agent["bob"])
        for t in threads:
            t.join(60)
    assert not results["alice"].is_error, text_of(results["alice"])
    assert results["bob"].is_error and "declined" in text_of(results["bob"])
    assert len(posts(upstream)) == 1


def test_an_answer_lets_one_call_through_once_and_cannot_be_replayed(home, upstream, pay):
    """A 2026-07-28 client drives the rounds itself: after the approved
    retry ran, sending the same requestState again asks anew."""
    args = {"service": "pay", "method": "POST", "path": "/refunds/42", "body": "amount=5"}
    accept = {"keyward_approval": {"action": "accept", "content": {"decision": "once"}}}

    async def calls(client):
        s = client.session
        first = await s.call_tool("http_request", args, allow_input_required=True)
        state = first.request_state
        done = await s.call_tool("http_request", args, input_responses=accept, request_state=state, allow_input_required=True)
        replay = await s.call_tool("http_request", args, input_responses=accept, request_state=state, allow_input_required=True)
        return first, done, replay

    first, done, replay = mcp_call(home, calls, mode="auto", elicitation_callback=answering("once"))
    assert getattr(first, "result_type", None) == "input_required", first
    assert not done.is_error, done
    assert getattr(replay, "result_type", None) == "input_required", "a replayed answer was accepted"
    assert len(posts(upstream)) == 1


def test_one_allow_once_releases_exactly_one_of_six_held_retries(home, upstream, pay):
    """Issue 10 item 2: a 2026-07-28 client holds six retries open with one
    requestState; the human's single `keyward approve` must release one
    call, not six. The other retries are asked anew."""
    args = {"service": "pay", "method": "POST", "path": "/refunds/42", "body": "amount=5"}

    async def calls(client):
        s = client.session
        first = await s.call_tool("http_request", args, allow_input_required=True)
        state = first.request_state
        results: list = []

        async def retry():
            results.append(await s.call_tool("http_request", args, request_state=state, allow_input_required=True))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(retry)
        return first, results

    held = Held(home, calls, mode="auto", elicitation_callback=answering(None, action="cancel"))
    [qid] = wait_pending(home)
    time.sleep(1.5)  # the six retries are waiting on the question
    home.run("approve", qid, env=PASS)
    first, results = held.join()
    assert getattr(first, "result_type", None) == "input_required", first
    assert len(results) == 6
    went = [r for r in results if getattr(r, "result_type", None) != "input_required" and not r.is_error]
    assert len(went) == 1, [text_of(r) if r.is_error else r for r in results]
    assert len(posts(upstream)) == 1, "one answer let more than one call through"


def test_with_elicitation_off_the_client_is_never_asked(home, upstream):
    home.set_secret("pay_token", canary("paytoken"))
    cfg = confirm_config(upstream.origin, "pay_token").replace("notify = false", "notify = false\nelicitation = false")
    home.write_config(cfg)
    seen: list = []
    held = Held(home, lambda c: refund(c), mode="auto", elicitation_callback=answering("once", seen=seen))
    [qid] = wait_pending(home)
    home.run("approve", qid, env=PASS)
    r = held.join()
    assert not r.is_error and seen == []


def test_the_passphrase_never_goes_to_a_socket_that_is_not_keyward(home, upstream, pay):
    """Any same-user process can put a socket in run/: one that claims to
    hold the question must not receive the passphrase."""
    import os

    run = home.dir / "run"
    run.mkdir(exist_ok=True)
    path = run / f"serve-{os.getpid()}.sock"  # named after a real process: this one (python)
    fake = {"id": "feedfacefeedface", "agent": "x", "kind": "http", "target": "t", "rule": None, "preview": None,
            "reason": None, "grants": "g", "asked": "2026-01-01T00:00:00Z", "deadline": "2026-01-01T00:00:00Z"}
    srv, got = fake_listener(path, {"ok": True, "pending": [fake], "unknown": False})
    try:
        p = home.run("approve", "feedfacefeedface", env=PASS, check=False)
        p2 = home.run("unlock", env=PASS, check=False)
    finally:
        srv.close()
    sent = b"".join(got)
    assert b"correct horse" not in sent, "the passphrase went to a process that is not keyward"
    assert p.returncode != 0
    assert "not sending the passphrase" in p.stderr + p2.stderr


def test_the_question_shows_query_parameters_headers_and_the_json_body(home, upstream, pay):
    seen: list = []

    async def calls(client):
        return await client.call_tool(
            "http_request",
            {"service": "pay", "method": "POST", "path": "/refunds/42", "query": {"scope": "all-orders"},
             "headers": {"X-Mode": "force"}, "json": {"amount": 999}},
        )

    mcp_call(home, calls, elicitation_callback=answering("deny", seen=seen))
    msg = seen[0].message
    assert "scope=all-orders" in msg and "X-Mode" in msg and "force" in msg and "999" in msg and "json body" in msg, msg


# --- what the human reads -----------------------------------------------

# Characters that make a line read differently from what it holds: a
# right-to-left override, a zero-width space, a line separator, an isolate.
HIDDEN = ["\u202e", "\u200b", "\u2028", "\u2066", "\u2069", "\u200f", "\ufeff", "\x1b"]


def hidden_in(text: str) -> list[str]:
    """The hidden characters in `text` (its own line breaks aside)."""
    return [f"U+{ord(c):04X}" for c in text if c in HIDDEN or (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]


def test_bidi_override_in_reason_is_escaped_on_every_channel(home, upstream, pay):
    """A reason, a query parameter and a body with U+202E, U+200B and
    U+2028: `keyward approvals`, the elicitation message, and the dashboard
    (its page and its live stream) show them as escapes, never raw."""
    import http.client
    import urllib.parse

    from http_service import Service, add_agent

    reason = "refund \u202e0001\u202c EUR\u200b\u2028approved by finance"
    note = "n\u2066ote\u2069\u200b"
    body = "amount=5\u2028&amount=99999\u202e"
    alice = add_agent(home, "alice")
    seen: list = []
    checked = threading.Event()

    async def answer_after_the_checks(context, params):
        seen.append(params)
        while not checked.is_set():
            await anyio.sleep(0.05)
        return types.ElicitResult(action="accept", content={"decision": "deny"})

    def call(c):
        return c.call_tool(
            "http_request",
            {"service": "pay", "method": "POST", "path": "/refunds/42", "query": {"note": note},
             "body": body, "reason": reason},
        )

    with Service(home) as s:
        from http_service import mcp_http

        result: dict = {}

        def run():
            try:
                result["r"] = mcp_http(s.url, alice, call, mode="legacy", elicitation_callback=answer_after_the_checks)
            except BaseException as e:  # noqa: BLE001 - reported below
                result["e"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            wait_pending(home)
            # `keyward approvals`
            out = home.run("approvals").stdout
            assert hidden_in(out) == [], (hidden_in(out), out)
            assert "reason: refund \\u{202e}0001\\u{202c} EUR\\u{200b}\\u{2028}approved by finance" in out, out
            assert "note=n\\u{2066}ote\\u{2069}\\u{200b}" in out, out
            assert "amount=5\\u{2028}&amount=99999\\u{202e}" in out, out

            # The dashboard: log in, then the page and the live stream.
            host, port = s.addr.rsplit(":", 1)

            def req(method, path, headers=None, form=None, stream=False):
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                h = dict(headers or {})
                data = None
                if form is not None:
                    data = urllib.parse.urlencode(form)
                    h["Content-Type"] = "application/x-www-form-urlencoded"
                conn.request(method, path, body=data, headers=h)
                resp = conn.getresponse()
                if stream:
                    return conn, resp
                out = resp.status, resp.getheaders(), resp.read().decode()
                conn.close()
                return out

            status, headers, _ = req("POST", "/login", form={"passphrase": PASS["KEYWARD_PASSPHRASE"]})
            assert status in (200, 303), status
            cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
            status, _, page = req("GET", "/", {"Cookie": cookie})
            assert status == 200 and "refund " in page, page
            assert hidden_in(page) == [], hidden_in(page)
            assert "refund \\u{202e}0001\\u{202c} EUR\\u{200b}\\u{2028}approved by finance" in page, page
            assert "note=n\\u{2066}ote\\u{2069}\\u{200b}" in page
            conn, resp = req("GET", "/events", {"Cookie": cookie, "Accept": "text/event-stream"}, stream=True)
            assert resp.status == 200
            event = b""
            while b"\n\n" not in event:
                line = resp.readline()
                assert line, "the stream ended"
                event += line
            conn.close()
            live = event.decode()
            assert "event: state" in live and "refund " in live, live
            assert hidden_in(live) == [], hidden_in(live)
            assert "refund \\u{202e}0001" in live
        finally:
            checked.set()
            t.join(60)
    assert not t.is_alive() and "e" not in result, result.get("e")
    r = result["r"]
    assert r.is_error and "declined" in text_of(r)
    assert posts(upstream) == []
    # The elicitation message the client showed the human.
    assert len(seen) == 1
    msg = seen[0].message
    assert hidden_in(msg) == [], (hidden_in(msg), msg)
    assert "reason given by the agent: refund \\u{202e}0001\\u{202c} EUR\\u{200b}\\u{2028}approved by finance" in msg, msg
    assert "note=n\\u{2066}ote\\u{2069}\\u{200b}" in msg, msg
    assert "amount=5\\u{2028}&amount=99999\\u{202e}" in msg, msg
    # The audit record of the question holds what the human was shown.
    asked = [a for a in home.audit() if a["kind"] == "approval" and a["decision"] == "asked"]
    assert "\\u{202e}" in asked[0]["args"] and "\u202e" not in json.dumps(asked, ensure_ascii=False)


def test_an_escape_typed_by_the_agent_is_shown_as_typed(home, upstream, pay):
    """The agent cannot fake an escape: the six characters `\\u{202e}` are
    shown with their backslash escaped, not as a real U+202E is."""
    seen: list = []

    async def calls(client):
        return await refund(client, reason="real \u202e fake \\u{202e}")

    mcp_call(home, calls, elicitation_callback=answering("deny", seen=seen))
    msg = seen[0].message
    assert "real \\u{202e} fake \\\\u{202e}" in msg, msg


def test_padding_cannot_push_query_parameters_out_of_the_question(home, upstream, pay):
    """A 290-character path once cut the question's target at 300
    characters, so `?note=…&amount=99999` read as `…`."""
    seen: list = []
    path = "/refunds/42/" + "a" * 278
    assert len(path) == 290
    query = "note=" + "b" * 40 + "&amount=99999"

    async def calls(client):
        return await client.call_tool(
            "http_request",
            {"service": "pay", "method": "POST", "path": f"{path}?{query}", "query": {"currency": "eur"}},
        )

    held = Held(home, calls, elicitation_callback=answering("deny", seen=seen, delay=3))
    wait_pending(home)
    out = home.run("approvals").stdout
    held.join()
    msg = seen[0].message
    for shown in (msg, out):
        assert f"?{query}&currency=eur" in shown, shown
        assert "characters of the path not shown" in shown, shown
    assert posts(upstream) == []


def test_a_duration_answer_grants_the_tool_and_answers_its_later_confirms(home):
    """A grant answers a `confirm` of an upstream tool as it does an HTTP
    call's: the same approval stage for every kind."""
    import sys

    fixtures = Path(__file__).parent / "fixtures"
    home.write_config(f"""
[approvals]
timeout = "20s"
notify = false

[servers.pin]
command = "{sys.executable}"
args = ["{fixtures / 'pin_server.py'}"]
tools = {{ add = "confirm" }}
""")
    seen: list = []

    async def calls(client):
        first = await client.call_tool("pin__add", {"a": 2, "b": 3})
        second = await client.call_tool("pin__add", {"a": 4, "b": 5})
        return first, second

    first, second = mcp_call(home, calls, elicitation_callback=answering("5m", seen=seen))
    assert not first.is_error and "5" in text_of(first), text_of(first)
    assert not second.is_error and "9" in text_of(second), text_of(second)
    assert len(seen) == 1, "the grant answered the second confirm"
    tools = [r for r in home.audit() if r["kind"] == "tool"]
    assert [r["decision"] for r in tools] == ["allow", "allow"]
    assert tools[0]["channel"] == "elicitation" and tools[0].get("approval")
    assert tools[1]["channel"].startswith("grant ") and "approval" not in tools[1], tools[1]
