"""Issue 12, "the first ten minutes": what a new user met, run the way
they met it (a real shell pipe, real agents, a real held call)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time

from conftest import KEYWARD, PASSPHRASE, canary, mcp_call, open_service, text_of
from test_approvals import Held, posts, wait_pending


def write_log(path, records):
    """A valid audit log (chain and head) of `records` (Event fields)."""
    prev = "0" * 64
    lines = []
    for seq, event in enumerate(records, 1):
        body = json.dumps({"seq": seq, "ts": "2026-12-03T14:00:00Z", "prev": prev, **event}, separators=(",", ":"))
        prev = hashlib.sha256(body.encode()).hexdigest()
        lines.append(body[:-1] + f',"hash":"{prev}"}}\n')
    path.write_text("".join(lines))
    head = f'{{"seq":{len(records)},"hash":"{prev}"}}'
    (path.parent / (path.name + ".head")).write_text(head.ljust(103) + "\n")


def test_audit_piped_into_head_exits_0_without_a_panic(home):
    """issue 12: `keyward audit | head` panicked on the broken pipe."""
    event = {"agent": "agent 1.0", "kind": "tool", "target": "fs", "tool": "read_text_file",
             "decision": "allow", "redactions": 0}
    # Far more than a pipe holds, so keyward is still writing when head exits.
    write_log(home.dir / "audit.jsonl", [event] * 5000)
    for args in ["audit", "audit --json", "audit --target 'fs__*'"]:
        p = subprocess.run(
            ["bash", "-c", f'set -o pipefail; "$KW" {args} | head -1'],
            capture_output=True, text=True, env=dict(home.env, KW=KEYWARD), timeout=60,
        )
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        assert p.stderr == "", (args, p.stderr)
        assert len(p.stdout.splitlines()) == 1


def test_audit_answers_what_each_agent_did(home, upstream):
    """issue 12: the audit did not answer "what did my agent do in the
    last hour?": two agents' calls, filtered by agent, decision, target
    and time."""
    home.write_config(f"""
[services.s]
base_url = "{upstream.origin}"
[[services.s.rules]]
action = "allow"
paths = ["/ok"]
""")

    def calls(paths):
        async def go(client):
            for p in paths:
                await client.call_tool("http_request", {"service": "s", "method": "GET", "path": p})
        return go

    before = home.run("audit", "-n", "1", "--json").stdout
    mcp_call(home, calls(["/ok", "/denied"]), client_name="alpha")
    mcp_call(home, calls(["/ok"]), client_name="beta")

    def lines(*args):
        return home.run("audit", "--since", "1h", *args).stdout.strip().splitlines()

    alpha = lines("--agent", "alpha")
    assert len(alpha) == 2 and all("alpha 1.0" in line for line in alpha), alpha
    assert "s GET /ok" in alpha[0] and "s GET /denied" in alpha[1]
    denied = lines("--decision", "deny", "--target", "s")
    assert len(denied) == 1 and "alpha" in denied[0] and "/denied" in denied[0], denied
    assert lines("--agent", "beta", "--decision", "deny") == []
    # Local time, with its zone.
    assert " UTC " in home.run("audit", "-n", "1", env={"TZ": "UTC"}).stdout
    # --json keeps the records as written.
    raw = home.run("audit", "--json", "--agent", "beta").stdout.strip().splitlines()
    assert [json.loads(r)["agent"] for r in raw] == ["beta 1.0"]
    assert before  # the log had the config approvals before the calls


def test_audit_follow_prints_records_as_they_are_written(home, upstream):
    home.write_config(open_service(upstream.origin))
    follow = subprocess.Popen(
        [KEYWARD, "audit", "--follow", "--agent", "follower"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=home.env,
    )
    try:
        time.sleep(0.5)

        async def go(client):
            await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/ok"})

        mcp_call(home, go, client_name="follower")
        line = follow.stdout.readline()
        assert "follower 1.0" in line and "s GET /ok" in line, line
    finally:
        follow.kill()
        follow.wait()


def test_confirm_from_the_cli_ends_in_a_held_call(home, upstream):
    """issue 12: `confirm` could not be set from the CLI. A service added
    with `--confirm` holds the call until a human answers (here with
    `keyward approve`); `--rate` is the rule's limit."""
    home.set_secret("pay_token", canary("pay"))
    pw = {"KEYWARD_PASSPHRASE": PASSPHRASE}
    home.run(
        "service", "add", "pay", "--base-url", upstream.origin, "--auth", "bearer", "--secret", "pay_token",
        "--allow", "GET /**", "--confirm", "POST /refunds/**", "--rate", "1/hour", env=pw,
    )

    def refund(client):
        return client.call_tool("http_request", {"service": "pay", "method": "POST", "path": "/refunds/42",
                                                 "body": "amount=5", "reason": "customer asked"})

    held = Held(home, refund)
    [qid] = wait_pending(home)
    assert "POST /refunds/42" in home.run("approvals").stdout
    assert posts(upstream) == [], "the call went through before a human said yes"
    home.run("approve", qid, env=pw)
    r = held.join()
    assert not r.is_error, text_of(r)
    assert len(posts(upstream)) == 1
    assert "rate limit from rule #2: 1/hour per agent" in home.run("check", "pay", "POST", "/refunds/1", check=False).stdout


def doctor_lines(home, prefix):
    p = home.run("doctor", env={"KEYWARD_PASSPHRASE": PASSPHRASE}, check=False)
    return p, [line for line in p.stdout.splitlines() if line.startswith(prefix)]


def test_doctor_is_not_all_good_while_keyward_is_locked(home):
    """issue 12: `doctor` said "all good" while every call was denied."""
    home.run("lock")
    p, fails = doctor_lines(home, "FAIL")
    assert p.returncode == 1 and "all good" not in p.stdout, p.stdout
    assert any("locked" in line and "keyward unlock" in line for line in fails), p.stdout
    home.run("unlock", env={"KEYWARD_PASSPHRASE": PASSPHRASE})
    p, _ = doctor_lines(home, "FAIL")
    assert p.returncode == 0 and "all good" in p.stdout, p.stdout


def test_doctor_is_not_all_good_with_an_edit_that_is_not_approved(home, upstream):
    """issue 12: `doctor` said "all good" while keyward.toml had an edit
    `keyward serve` ignores (not approved), or one that does not parse."""
    home.write_config(open_service(upstream.origin))
    assert doctor_lines(home, "FAIL")[0].returncode == 0
    home.write_config(open_service(upstream.origin) + open_service(upstream.origin, name="t"), approve=False)
    p, fails = doctor_lines(home, "FAIL")
    assert p.returncode == 1, p.stdout
    assert any("not approved" in line and "keyward config approve" in line for line in fails), p.stdout
    (home.dir / "keyward.toml").write_text(open_service(upstream.origin) + "[services.broken\n")
    p, fails = doctor_lines(home, "FAIL")
    assert p.returncode == 1, p.stdout
    assert any(line.startswith("FAIL  config") for line in fails), p.stdout
    assert any("does not load" in line and "approved config" in line for line in fails), p.stdout


def test_doctor_names_vault_secrets_nothing_references(home, upstream):
    home.set_secret("used", canary("u"))
    home.set_secret("forgotten", canary("f"))
    home.write_config(open_service(upstream.origin, secret="used"))
    p, warns = doctor_lines(home, "warn")
    assert p.returncode == 0, p.stdout
    assert [w for w in warns if "`forgotten`" in w and "keyward secret rm forgotten" in w], p.stdout
    assert not [w for w in warns if "`used`" in w], p.stdout


def test_init_without_a_terminal_or_passphrase_leaves_nothing_behind(tmp_path):
    """issue 12: `init` without a terminal left half a setup (a
    keyward.toml, no vault) that every later command tripped over."""
    from conftest import Home

    h = Home(tmp_path)
    p = h.run("init", check=False)
    assert p.returncode == 2 and "nothing was created" in p.stderr, p.stderr
    assert not h.dir.exists(), sorted(str(f) for f in h.dir.rglob("*"))
    # With the passphrase, it then sets up in one go.
    h.run("init", env={"KEYWARD_PASSPHRASE": PASSPHRASE})
    assert (h.dir / "keyward.toml").exists() and (h.dir / "vault.kw").exists()


def test_init_warns_about_a_weak_passphrase(tmp_path):
    from conftest import Home

    h = Home(tmp_path)
    p = h.run("init", env={"KEYWARD_PASSPHRASE": "abc"})
    assert "passphrase is weak" in p.stderr and "approve" in p.stderr, p.stderr
    assert "abc" not in p.stdout
    p = Home(tmp_path / "strong").run("init", env={"KEYWARD_PASSPHRASE": "glacier ribbon tulip oxide mustard"})
    assert "weak" not in p.stderr, p.stderr


def test_serve_http_prints_the_dashboard_url_and_a_port_in_use_gives_a_next_step(home):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        p = home.run("serve", "--http", f"127.0.0.1:{port}", check=False)
        assert p.returncode == 2, p.stderr
        assert "in use" in p.stderr and f"keyward serve --http 127.0.0.1:{port + 1}" in p.stderr, p.stderr
    finally:
        taken.close()

    serve = subprocess.Popen([KEYWARD, "serve", "--http", f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=home.env)
    try:
        deadline = time.time() + 30
        seen = []
        while time.time() < deadline:
            line = serve.stderr.readline()
            seen.append(line)
            if "serving MCP" in line:
                assert f"the dashboard is at http://127.0.0.1:{port}/" in line, line
                break
        else:
            raise AssertionError("".join(seen))
    finally:
        serve.terminate()
        serve.wait(10)


def test_serve_notice_shows_a_toml_error_as_lines_not_escapes(home, upstream):
    """issue 12: a `serve` notice printed TOML errors with `\\u{a}` (or
    `\\n`) instead of newlines."""
    home.write_config(open_service(upstream.origin))
    (home.dir / "keyward.toml").write_text(open_service(upstream.origin) + "[services.broken\n")
    p = subprocess.run([KEYWARD, "serve"], input="", capture_output=True, text=True, env=home.env, timeout=30)
    notice = [line for line in p.stderr.splitlines() if "not valid" in line]
    assert notice, p.stderr
    assert "\\n" not in p.stderr and "\\u{a}" not in p.stderr, p.stderr
