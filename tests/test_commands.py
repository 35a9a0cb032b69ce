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


# --- issue 10 item 1: what a command reads besides its argv -------------
#
# The agent, as the same user, can write a repository's `.git/config`, the
# dotfiles in HOME and any directory it owns on PATH. A program that reads
# a hook from one of those can hand back its secret transformed (here
# reversed), which no scrubber recognises.

import sys
import subprocess
from pathlib import Path

from conftest import KEYWARD


def git(*args, cwd):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True,
    )


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", cwd=path)
    (path / "a.txt").write_text("a\n")
    git("add", "a.txt", cwd=path)
    git("commit", "-qm", "a", cwd=path)
    return path


def leak_hook(tmp: Path) -> tuple[Path, Path]:
    """An fsmonitor hook that writes $GH_TOKEN reversed to a file and to
    stderr: what the agent would plant."""
    leak = tmp / f"leak-{secrets.token_hex(4)}"
    hook = tmp / f"hook-{secrets.token_hex(4)}"
    hook.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "t = os.environ.get('GH_TOKEN', '')[::-1]\n"
        f"open({str(leak)!r}, 'a').write(t + '\\n')\n"
        "sys.stderr.write('fsmonitor:' + t + '\\n')\n"
        "print(t)\n"
    )
    hook.chmod(0o755)
    return hook, leak


def git_config(extra: str = "") -> str:
    return f"""
[commands.git]
program = "git"
args = ["status", "config --get *"]
env = {{ GH_TOKEN = "keyward://gh_token" }}
{extra}
"""


def assert_no_reversed(home, token, leak: Path, *results):
    rev = token[::-1]
    assert not leak.exists(), f"the hook ran: {leak.read_text() if leak.exists() else ''}"
    seen = "".join(text_of(r) + json.dumps(r.structured_content) for r in results)
    assert rev not in seen and token not in seen
    assert rev not in home.all_files_text() and token not in home.all_files_text()


def serve_in(home, cwd: Path, calls):
    """`keyward serve` started in `cwd` (as an MCP client starts it in a
    project the agent works on)."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.types import Implementation
    import anyio

    params = StdioServerParameters(command=KEYWARD, args=["serve"], env=home.env, cwd=str(cwd))

    async def main():
        with open(home.stderr_log, "a") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog),
                mode="legacy",
                client_info=Implementation(name="pytest-agent", version="1.0"),
                read_timeout_seconds=30,
            ) as client:
                return [await client.call_tool("run_command", c) for c in calls]

    return anyio.run(main)


def test_agent_chosen_cwd_with_fsmonitor_hook_is_refused(home, tmp_path):
    token = canary("gh")
    home.set_secret("gh_token", token)
    home.write_config(git_config())
    hook, leak = leak_hook(tmp_path)
    evil = make_repo(tmp_path / "evil")
    git("config", "core.fsmonitor", str(hook), cwd=evil)

    (r,) = run(home, {"command": "git", "args": ["status"], "cwd": str(evil)})
    assert r.is_error
    msg = text_of(r)
    assert "`cwd` is not allowed for command `git`" in msg, msg
    assert "cwd = [" in msg and "[commands.git]" in msg, msg
    assert_no_reversed(home, token, leak, r)
    assert home.audit()[-1]["decision"] == "deny"
    assert home.audit()[-1]["rule"] == "commands.git.cwd"


def test_command_without_cwd_runs_in_root_not_in_keywards_directory(home, tmp_path):
    """An MCP client starts keyward in the project: a command without
    `cwd` must not inherit that directory (and its `.git/config`)."""
    token = canary("gh")
    home.set_secret("gh_token", token)
    home.write_config(git_config())
    hook, leak = leak_hook(tmp_path)
    evil = make_repo(tmp_path / "project")
    git("config", "core.fsmonitor", str(hook), cwd=evil)

    (r,) = serve_in(home, evil, [{"command": "git", "args": ["status"]}])
    assert "not a git repository" in text_of(r), text_of(r)
    assert_no_reversed(home, token, leak, r)


def test_allowed_cwd_runs_git_status_and_symlink_escape_is_refused(home, tmp_path):
    token = canary("gh")
    home.set_secret("gh_token", token)
    src = tmp_path / "src"
    good = make_repo(src / "good")
    hook, leak = leak_hook(tmp_path)
    evil = make_repo(tmp_path / "evil")
    git("config", "core.fsmonitor", str(hook), cwd=evil)
    (src / "link").symlink_to(evil)
    home.write_config(git_config(f'cwd = ["{src}/**"]'))

    ok, via_link, via_dots, missing, relative = run(
        home,
        {"command": "git", "args": ["status"], "cwd": str(good)},
        {"command": "git", "args": ["status"], "cwd": str(src / "link")},
        {"command": "git", "args": ["status"], "cwd": f"{src}/../evil"},
        {"command": "git", "args": ["status"], "cwd": str(src / "nope")},
        {"command": "git", "args": ["status"], "cwd": "src/good"},
    )
    assert not ok.is_error, text_of(ok)
    assert "nothing to commit" in ok.structured_content["stdout"], ok.structured_content
    for r in (via_link, via_dots):
        assert r.is_error and "is not allowed for command `git`" in text_of(r), text_of(r)
        assert f"commands.git.cwd allows {src}/**" in text_of(r), text_of(r)
    assert missing.is_error and "not an existing directory" in text_of(missing)
    assert relative.is_error and "absolute" in text_of(relative)
    assert_no_reversed(home, token, leak, ok, via_link, via_dots)


def test_cwd_symlink_escape_is_refused(home, tmp_path):
    """The allowed directory itself reached through a symlink placed in
    it by the agent: matched on the canonical path, so refused."""
    token = canary("gh")
    home.set_secret("gh_token", token)
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    hook, leak = leak_hook(tmp_path)
    evil = make_repo(tmp_path / "elsewhere")
    git("config", "core.fsmonitor", str(hook), cwd=evil)
    (allowed / "repo").symlink_to(evil)
    home.write_config(git_config(f'cwd = ["{allowed}/*"]'))
    (r,) = run(home, {"command": "git", "args": ["status"], "cwd": str(allowed / "repo")})
    assert r.is_error and "resolved: `" in text_of(r), text_of(r)
    assert_no_reversed(home, token, leak, r)


def test_command_home_is_private_and_empty(home, tmp_path):
    """A ~/.gitconfig planted in the real HOME (with a hook and a value)
    is not read: each run gets an empty HOME of its own, removed after."""
    token = canary("gh")
    home.set_secret("gh_token", token)
    hook, leak = leak_hook(tmp_path)
    real_home = Path(home.env["HOME"])
    marker = canary("name")
    (real_home / ".gitconfig").write_text(f"[core]\n\tfsmonitor = {hook}\n[user]\n\tname = {marker}\n")
    src = tmp_path / "src"
    good = make_repo(src / "good")
    home.write_config(
        git_config(f'cwd = ["{src}/**"]')
        + '\n[commands.envdump]\nprogram = "env"\nargs = [""]\n'
    )
    status, name, env1, env2 = run(
        home,
        {"command": "git", "args": ["status"], "cwd": str(good)},
        {"command": "git", "args": ["config", "--get", "user.name"], "cwd": str(good)},
        {"command": "envdump", "args": []},
        {"command": "envdump", "args": []},
    )
    assert not status.is_error, text_of(status)
    assert marker not in text_of(name), "the real ~/.gitconfig was read"
    assert_no_reversed(home, token, leak, status, name)
    homes = []
    for r in (env1, env2):
        env = dict(l.split("=", 1) for l in r.structured_content["stdout"].splitlines() if "=" in l)
        homes.append(env["HOME"])
        assert env["HOME"] != str(real_home)
    assert homes[0] != homes[1], "each run gets its own HOME"
    assert all(not Path(h).exists() for h in homes), "a run's HOME is removed after it"
    assert str(home.dir / "exec-home") in homes[0]


def test_user_writable_path_dir_cannot_shadow_program(home, tmp_path):
    """A `echo` the agent put in a directory it owns, first on keyward's
    PATH, is neither pinned nor run, and that directory is not on the
    command's PATH."""
    shadow = tmp_path / "bin"
    shadow.mkdir()
    fake = shadow / "echo"
    fake.write_text("#!/bin/sh\necho SHADOWED\n")
    fake.chmod(0o755)
    home.env["PATH"] = f"{shadow}:{home.env['PATH']}"
    home.write_config(
        '[commands.show]\nprogram = "echo"\nargs = ["*"]\n'
        '[commands.envdump]\nprogram = "env"\nargs = [""]\n'
    )
    shown, env = run(home, {"command": "show", "args": ["hello"]}, {"command": "envdump", "args": []})
    assert shown.structured_content["stdout"] == "hello\n", shown.structured_content
    path = dict(l.split("=", 1) for l in env.structured_content["stdout"].splitlines() if "=" in l)["PATH"]
    assert str(shadow) not in path and path, path
    # Planted after the approval: the resolved path differs from the pin.
    # (Here it was not even found: the directory is not safe to search.)
    assert "SHADOWED" not in home.all_files_text()


def test_program_only_in_a_writable_dir_is_refused_naming_it(home, tmp_path):
    shadow = tmp_path / "bin"
    shadow.mkdir()
    tool = shadow / "kwtool"
    tool.write_text("#!/bin/sh\necho tool\n")
    tool.chmod(0o755)
    home.env["PATH"] = f"{shadow}:{home.env['PATH']}"
    home.write_config('[commands.t]\nprogram = "kwtool"\nargs = [""]\n')
    (r,) = run(home, {"command": "t", "args": []})
    assert r.is_error and "not pinned" in text_of(r) and "keyward config approve" in text_of(r), text_of(r)
    # The human names it by absolute path: pinned and run.
    home.write_config(f'[commands.t]\nprogram = "{tool}"\nargs = [""]\n')
    (r,) = run(home, {"command": "t", "args": []})
    assert not r.is_error and r.structured_content["stdout"] == "tool\n", text_of(r)


def test_changed_program_binary_is_refused_until_approved(home, tmp_path):
    tool = tmp_path / "tool.sh"
    tool.write_text("#!/bin/sh\necho first\n")
    tool.chmod(0o755)
    home.write_config(f'[commands.t]\nprogram = "{tool}"\nargs = [""]\n')
    (r,) = run(home, {"command": "t", "args": []})
    assert r.structured_content["stdout"] == "first\n", text_of(r)

    tool.write_text("#!/bin/sh\necho second\n")
    (r,) = run(home, {"command": "t", "args": []})
    assert r.is_error, text_of(r)
    assert "changed since it was approved" in text_of(r), text_of(r)
    assert "keyward config approve" in text_of(r), text_of(r)
    assert "second" not in text_of(r)
    assert home.audit()[-1]["decision"] == "deny"

    # The config text did not change, yet approving is not "nothing to do":
    # the new hash is shown and accepted with the passphrase.
    p = home.approve()
    assert "programs that change" in p.stdout and "commands.t" in p.stdout, p.stdout
    (r,) = run(home, {"command": "t", "args": []})
    assert not r.is_error and r.structured_content["stdout"] == "second\n", text_of(r)
    assert "nothing to approve" in home.approve().stdout


def test_approved_config_without_program_pins_refuses_commands(home, tmp_path):
    """An approval made before programs were pinned (or whose pin file was
    removed or swapped) runs no command until approved again."""
    home.write_config('[commands.show]\nprogram = "echo"\nargs = ["*"]\n')
    pins = home.dir / "approved" / "programs.sealed"
    old = pins.read_bytes()
    pins.unlink()
    (r,) = run(home, {"command": "show", "args": ["x"]})
    assert r.is_error and "approved before keyward pinned programs" in text_of(r), text_of(r)
    assert "keyward config approve" in text_of(r)
    # A pin file from another approval does not pass either.
    home.write_config('[commands.show]\nprogram = "echo"\nargs = ["*", "y"]\n')
    pins.write_bytes(old)
    (r,) = run(home, {"command": "show", "args": ["x"]})
    assert r.is_error and "another approval" in text_of(r), text_of(r)
    p = home.approve()
    assert "program pins" in p.stdout or "programs that change" in p.stdout, p.stdout
    (r,) = run(home, {"command": "show", "args": ["x"]})
    assert not r.is_error and r.structured_content["stdout"] == "x\n", text_of(r)
