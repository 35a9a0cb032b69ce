"""The approvals dashboard in a real browser: `keyward serve --http` on
127.0.0.1 with a `confirm` rule, an agent (the official Python MCP SDK with
its bearer token) whose call is held, and headless Chromium driven by
Playwright (tests/node/dashboard.mjs) answering it: log in, see the request
appear live, allow it for 5 minutes, revoke the grant, lock, unlock."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import PASSPHRASE, ROOT, canary, text_of
from http_service import Service, add_agent, mcp_http

NODE_DIR = ROOT / "tests" / "node"
SCRIPT = NODE_DIR / "dashboard.mjs"
CHROMIUM = "/usr/bin/chromium"
# Hostile text from the agent: the page must show it, not run it.
REASON = "Refund order #4417, charged twice <script>window.__kwPwned = 1; alert(1)</script>"
REFUND = {
    "service": "stripe",
    "method": "POST",
    "path": "/v1/refunds/4417",
    "body": '{"amount": 1999, "currency": "eur"}',
    "reason": REASON,
}
BALANCE = {"service": "stripe", "method": "GET", "path": "/v1/balance"}
SHOTS = ["login", "pending", "grants", "locked"]


def config(origin: str) -> str:
    return f"""
[approvals]
timeout = "90s"
notify = false

[services.stripe]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "stripe_key" }}

[[services.stripe.rules]]
action = "allow"
methods = ["GET"]
paths = ["/v1/**"]

[[services.stripe.rules]]
action = "confirm"
methods = ["POST"]
paths = ["/v1/refunds/**"]
"""


class Browser:
    """The node script as a child: its stdout lines in a queue, go-aheads
    written to its stdin."""

    def __init__(self, url: str, out: Path, log: Path):
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: run scripts/test-peers (apt-get install chromium)")
        if not (NODE_DIR / "node_modules" / "playwright-core").exists():
            pytest.fail("playwright-core is missing: run scripts/test-peers (npm ci --prefix tests/node)")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(out.parent),
            "KEYWARD_TEST_PASSPHRASE": PASSPHRASE,
            "CHROMIUM": CHROMIUM,
        }
        if os.environ.get("KEYWARD_SCREENSHOTS"):
            # Relative to where pytest runs (the script runs in tests/node).
            env["KEYWARD_SCREENSHOTS"] = str(Path(os.environ["KEYWARD_SCREENSHOTS"]).resolve())
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), "--url", url, "--out", str(out)],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.logpath = log

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, word: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"the browser did not reach {word}:\n{self.logpath.read_text()}") from None
            if line is None or line.startswith("FAIL"):
                self.proc.wait(timeout=30)
                raise AssertionError(f"the browser failed before {word}: {line}\n{self.logpath.read_text()}")
            if line == word:
                return

    def send(self, word: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def close(self) -> int:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.log.close()


def refunds(upstream) -> list[dict]:
    return [r for r in upstream.requests if r["method"] == "POST"]


def test_the_dashboard_in_chromium_approves_revokes_and_locks(home, upstream, tmp_path):
    key = canary("stripe")
    home.set_secret("stripe_key", key)
    home.write_config(config(upstream.origin))
    token = add_agent(home, "claude-code")
    shots = tmp_path / "screenshots"

    with Service(home) as s:
        browser = Browser(f"http://{s.addr}/", shots, tmp_path / "browser.log")
        try:
            browser.expect("READY")

            # The agent's call is held until the human answers in the browser.
            held: dict = {}

            def call() -> None:
                async def go(c):
                    return await c.call_tool("http_request", REFUND)

                try:
                    held["result"] = mcp_http(s.url, token, go)
                except BaseException as e:  # reported by the assertion below
                    held["error"] = e

            t = threading.Thread(target=call, daemon=True)
            t.start()
            browser.expect("APPROVED")
            t.join(timeout=30)
            assert not t.is_alive(), "the held call did not complete after the approval"
            assert "error" not in held, held.get("error")
            r = held["result"]
            assert not r.is_error, text_of(r)
            assert "HTTP 200" in text_of(r)
            posts = refunds(upstream)
            assert len(posts) == 1 and posts[0]["path"] == "/v1/refunds/4417"
            assert ["authorization", f"Bearer {key}"] in [[k.lower(), v] for k, v in posts[0]["headers"]]
            assert key not in text_of(r)

            browser.send("NEXT")
            browser.expect("LOCKED")

            # Locked: every call is refused at once, held or not.
            async def both(c):
                return await c.call_tool("http_request", BALANCE), await c.call_tool("http_request", REFUND)

            seen = len(upstream.requests)
            get, post = mcp_http(s.url, token, both)
            for r in (get, post):
                assert r.is_error and "locked" in text_of(r), text_of(r)
            assert len(upstream.requests) == seen, "nothing reached the upstream while locked"

            browser.send("UNLOCK")
            browser.expect("UNLOCKED")
            r = mcp_http(s.url, token, lambda c: c.call_tool("http_request", BALANCE))
            assert not r.is_error, text_of(r)
        finally:
            code = browser.close()
        assert code == 0, (tmp_path / "browser.log").read_text()

    for name in SHOTS:
        png = shots / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name

    audit = home.audit()
    answers = [a for a in audit if a["kind"] == "approval" and a["decision"] != "asked"]
    assert len(answers) == 1, answers
    assert answers[0]["channel"] == "dashboard" and answers[0]["decision"].startswith("allow for 5m (grant ")
    assert answers[0]["agent"] == "claude-code"
    call = [a for a in audit if a["kind"] == "http" and a.get("method") == "POST"]
    assert call[0]["decision"] == "allow" and call[0]["channel"] == "dashboard"
    admin = [(a["agent"], a["decision"]) for a in audit if a["kind"] == "admin"]
    for expected in ["login_failed", "login", "lock", "wrong_passphrase", "unlock"]:
        assert ("dashboard", expected) in admin, (expected, admin)
    assert any(d.startswith("revoke grant ") for _, d in admin), admin
    # Neither the service's key nor the passphrase was written anywhere.
    written = home.all_files_text() + (tmp_path / "browser.log").read_text()
    assert key not in written and PASSPHRASE not in written


def test_the_dashboard_is_not_served_to_a_rebinding_page(home, upstream):
    """The HTTP service's Host/Origin guard covers the dashboard's routes."""
    import http.client

    home.set_secret("stripe_key", canary("stripe"))
    home.write_config(config(upstream.origin))
    with Service(home) as s:
        host, port = s.addr.rsplit(":", 1)

        def req(method: str, path: str, headers: dict[str, str], body: str = ""):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
            conn.close()
            return out

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, headers, _ = req("GET", "/", {})
        assert status == 303 and headers["location"] == "/login"
        status, headers, body = req("GET", "/login", {})
        assert status == 200 and 'type="password"' in body
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        for bad in [{"Host": f"evil.example:{port}"}, {"Origin": "http://evil.example"}]:
            status, _, _ = req("GET", "/login", bad)
            assert status == 403, bad
            status, _, _ = req("POST", "/login", {**form, **bad}, f"passphrase={PASSPHRASE}")
            assert status == 403, bad
        status, _, _ = req("GET", "/events", {})
        assert status == 401
        status, _, _ = req("POST", "/lock", form, "csrf=x")
        assert status == 401
    assert not [a for a in home.audit() if a.get("decision") == "login"], "no login happened"


def test_dashboard_login_backs_off_wrong_guesses_without_delaying_the_cli(home, upstream):
    """Issue 10 item 10: a burst of wrong dashboard logins is answered 429
    (with Retry-After) at once, without a passphrase check, and never queues
    ahead of the human's `keyward unlock` at the terminal. Plain HTTP, no
    browser."""
    import http.client

    home.set_secret("stripe_key", canary("stripe"))
    home.write_config(config(upstream.origin))
    pass_env = {"KEYWARD_PASSPHRASE": PASSPHRASE}
    with Service(home) as s:
        host, port = s.addr.rsplit(":", 1)

        def login(passphrase: str):
            started = time.monotonic()
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            conn.request(
                "POST", "/login", body=f"passphrase={passphrase}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            resp = conn.getresponse()
            resp.read()
            out = resp.status, resp.getheader("Retry-After"), time.monotonic() - started
            conn.close()
            return out

        def timed_unlock() -> float:
            home.run("lock")
            started = time.monotonic()
            out = home.run("unlock", env=pass_env).stdout
            assert "unlocked" in out, out
            return time.monotonic() - started

        alone = timed_unlock()

        # Twelve wrong guesses at once, then the human unlocks at the terminal.
        burst: list = []
        threads = [threading.Thread(target=lambda: burst.append(login("guess"))) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        during = timed_unlock()
        for t in threads:
            t.join(120)

        # Before the fix the unlock waited behind twelve checks (~1.3 s each).
        assert during < alone + 3, (alone, during)
        statuses = sorted(b[0] for b in burst)
        assert statuses.count(401) == 1 and statuses.count(429) == 11, burst
        for status, retry_after, took in burst:
            if status == 429:
                assert int(retry_after) >= 1 and took < 1.0, burst

        # One more wrong guess (a second in a row), then the wait is told.
        assert login("guess")[0] == 401
        status, retry_after, took = login(PASSPHRASE)
        assert status == 429 and int(retry_after) >= 2 and took < 1.0, (status, retry_after, took)
        # After it, the human logs in on the dashboard.
        time.sleep(int(retry_after))
        assert login(PASSPHRASE)[0] == 303
    admin = [a["decision"] for a in home.audit() if a["kind"] == "admin" and a["agent"] == "dashboard"]
    assert admin.count("login_failed") == 2 and admin.count("login") == 1, admin
