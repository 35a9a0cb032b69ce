"""`run_command` (issue 4, CLI tools): allow-listed programs run without a
shell, argv checked argument by argument, clean environment, scrubbed
output, timeouts, rate limits — through the real MCP client."""

from __future__ import annotations

import json
import os
import secrets
import time

import pytest

from conftest import canary, mcp_call, text_of

CONFIG = """
[commands.show]
program = "echo"
args = ["issue *", "pr view *"]
deny_args = ["* -c *", "* --exec* *"]
description = "echo, standing in for a CLI such as gh"

[commands.envdump]
program = "env"
args = [""]
env = { GH_TOKEN = "keyward://gh_token", MODE = "ci" }

[commands.sleeper]
program = "sleep"
args = ["*"]
timeout = "1s"

[commands.cat]
program = "cat"
args = [""]
rate = "2/minute"
"""


@pytest.fixture
def token(home):
    t = canary("gh")
    home.set_secret("gh_token", t)
    home.write_config(CONFIG)
    return t


def run(home, *calls, **kw):
    async def go(client):
        return [await client.call_tool("run_command", c) for c in calls]

    return mcp_call(home, go, **kw)


def test_allowed_argv_runs_and_others_are_denied(home, token):
    ok, other, denied_flag, exec_flag, unknown = run(
        home,
        {"command": "show", "args": ["issue", "list", "--limit", "5"]},
        {"command": "show", "args": ["pr", "merge", "1"]},
        {"command": "show", "args": ["issue", "-c", "core.pager=sh"]},
        {"command": "show", "args": ["pr", "view", "--exec-path=/tmp"]},
        {"command": "nope", "args": []},
    )
    assert not ok.is_error and ok.structured_content["stdout"] == "issue list --limit 5\n"
    assert ok.structured_content["exit_code"] == 0
    assert other.is_error and "no rule allows" in text_of(other)
    assert denied_flag.is_error and "denied by rule" in text_of(denied_flag)
    assert exec_flag.is_error and "denied by rule" in text_of(exec_flag)
    assert unknown.is_error and "unknown command `nope`" in text_of(unknown)
    recs = home.audit()
    assert [r["decision"] for r in recs] == ["allow", "deny", "deny", "deny", "error"]
    assert recs[0]["kind"] == "command" and recs[0]["args"] == "issue list --limit 5"


def test_no_shell_ever(home, token, tmp_path):
    marker = tmp_path / f"pwned-{secrets.token_hex(4)}"
    args = ["issue", f"$(touch {marker})", ";", "touch", str(marker), "&&", "`id`", "|", "cat"]
    (r,) = run(home, {"command": "show", "args": args})
    assert not r.is_error, text_of(r)
    assert r.structured_content["stdout"] == " ".join(args) + "\n"
    assert not marker.exists(), "a shell interpreted the arguments"


def test_environment_is_clean_and_secrets_scrubbed(home, token):
    passphrase = canary("pp")
    stray = canary("stray")
    home.env["KEYWARD_PASSPHRASE"] = passphrase
    home.env["UNRELATED_VAR"] = stray
    (r,) = run(home, {"command": "envdump", "args": []})
    out = r.structured_content["stdout"]
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env.get("GH_TOKEN") == "[REDACTED]", "the secret was not injected, or not scrubbed"
    assert env.get("MODE") == "ci"
    assert set(env) <= {"GH_TOKEN", "MODE", "PATH", "HOME", "TMPDIR", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES"}, env
    assert token not in json.dumps(r.structured_content) + text_of(r)
    assert passphrase not in out and stray not in out
    assert token not in home.all_files_text()


def test_timeout_kills_and_says_so(home, token):
    started = time.monotonic()
    (r,) = run(home, {"command": "sleeper", "args": ["30"]})
    assert time.monotonic() - started < 10
    assert r.is_error and r.structured_content["timed_out"] is True
    assert "timed out" in text_of(r)


def test_stdin_rate_limit_and_bad_cwd(home, token):
    a, b, c, cwd = run(
        home,
        {"command": "cat", "args": [], "stdin": "hello from stdin"},
        {"command": "cat", "args": [], "stdin": "x"},
        {"command": "cat", "args": [], "stdin": "y"},
        {"command": "show", "args": ["issue"], "cwd": "relative/dir"},
    )
    assert a.structured_content["stdout"] == "hello from stdin"
    assert not b.is_error
    assert c.is_error and "rate limited" in text_of(c)
    assert cwd.is_error and "absolute" in text_of(cwd)


def test_run_command_is_offered_only_when_commands_exist(home, token):
    async def names(client):
        return [t.name for t in (await client.list_tools()).tools]

    assert "run_command" in mcp_call(home, names)
    home.write_config("")
    assert "run_command" not in mcp_call(home, names)
