"""The first ten minutes (issue 12, items 1 and 2), run the way a new user
met them: the official MCP SDK's stdio client, which starts `keyward serve`
with a trimmed environment (only the variables it passes, such as PATH and
HOME, plus those of the client's config), and a config in which one
reference does not resolve beside services that work."""

from __future__ import annotations

import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import KEYWARD, PASSPHRASE, Home, canary, mcp_call, open_service, text_of


def trimmed(home: Home, tmp_path, **extra: str) -> Home:
    """The environment a client that trims it gives keyward: its own short
    list (the SDK adds PATH, HOME, USER, ...) and what its config names. No
    DBUS_SESSION_BUS_ADDRESS; XDG_RUNTIME_DIR names an empty directory, so
    no bus is at its conventional place either (and no real keychain is
    touched)."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    home.env = {"HOME": home.env["HOME"], "KEYWARD_HOME": str(home.dir), "XDG_RUNTIME_DIR": str(run), **extra}
    return home


async def everything_a_client_does(client):
    """initialize (done by the client), then the lists and one call of
    each kind; returns what came back, errors as text."""
    tools = await client.list_tools()
    call = await client.call_tool("list_services", {})
    http = await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/echo"})
    errors = []
    for attempt in (
        lambda: client.read_resource("demo://resource/static/document/a.md"),
        lambda: client.get_prompt("ev__simple-prompt"),
    ):
        try:
            await attempt()
            errors.append(None)
        except Exception as e:  # the SDK raises McpError for an error answer
            errors.append(str(e))
    return tools, call, http, errors


def test_trimmed_env_unlock_failure_answers_every_call_with_cause_and_fix_instead_of_closing(home, tmp_path, upstream):
    """Issue 12 item 1: the client saw `Connection closed` after a good
    `initialize`. Now keyward keeps answering: nothing is listed, and every
    call gets the cause (the store was unreachable, not empty) and the
    fixes — the same text the CLI printed on stderr."""
    home.set_secret("tok", canary("tok"))
    home.write_config(open_service(upstream.origin, secret="tok"))
    trimmed(home, tmp_path)

    tools, call, http, errors = mcp_call(home, everything_a_client_does)

    assert tools.tools == []
    for r in (call, http):
        assert r.is_error, text_of(r)
        text = text_of(r)
        assert "keyward could not start" in text, text
        assert "the OS credential store is unreachable" in text, text
        assert "DBUS_SESSION_BUS_ADDRESS is not set for this process" in text, text
        # Each fix for a client that trims the environment.
        assert "KEYWARD_VAULT_KEY_FILE" in text and "keyward init --write-key-file" in text, text
        assert "pass DBUS_SESSION_BUS_ADDRESS in the client's config" in text, text
        assert "keyward serve --http" in text and "keyward connect" in text, text
    for e in errors:
        assert e is not None and "the OS credential store is unreachable" in e, errors
    # The same message as on stderr, cause and hint.
    stderr = home.stderr_log.read_text()
    assert "cannot unlock the vault: the OS credential store is unreachable" in stderr, stderr
    assert "hint:" in stderr
    assert text_of(call).split("\n")[0].endswith(stderr.strip().splitlines()[-1].strip()) or (
        "hint:" in text_of(call)
    )
    assert PASSPHRASE not in text_of(call) + stderr


def test_trimmed_env_fixed_by_a_key_file_in_the_client_config(home, tmp_path, upstream):
    """The first fix the message names works."""
    token = canary("tok")
    home.set_secret("tok", token)
    home.write_config(open_service(upstream.origin, secret="tok"))
    trimmed(home, tmp_path, KEYWARD_VAULT_KEY_FILE=str(home.key_file))

    async def go(client):
        return await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/echo"})

    r = mcp_call(home, go)
    assert not r.is_error, text_of(r)
    assert token in str(upstream.requests[-1]["headers"])


def test_missing_approved_config_answers_calls_with_the_cause_instead_of_closing(home, upstream):
    """Issue 12 item 1: any start-up failure, not only the vault's: with no
    approved config (its copy removed) nothing is served, and the calls say
    so."""
    home.write_config(open_service(upstream.origin))
    shutil.rmtree(home.dir / "approved")
    direct = home.run("serve", input="", check=False)
    assert direct.returncode == 2, direct
    cause = direct.stderr.strip().splitlines()[0]

    async def go(client):
        tools = await client.list_tools()
        return tools, await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/"})

    tools, r = mcp_call(home, go)
    assert tools.tools == []
    assert r.is_error and "keyward could not start" in text_of(r), text_of(r)
    assert cause.removeprefix("keyward: ") in text_of(r), (cause, text_of(r))


BROKEN = """
[services.typo]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "github_tokn" }}
[[services.typo.rules]]
action = "allow"
paths = ["/**"]

[commands.envdump]
program = "env"
args = [""]
env = {{ GH_TOKEN = "keyward://gh_tokn" }}
"""


def test_one_missing_secret_disables_only_its_own_service(home, upstream):
    """Issue 12 item 2: a typo in `--secret` was accepted and approved, and
    then `serve` refused to start at all. Now the service with the broken
    reference (and a command with one) is listed unavailable with the
    reason, a call to it is refused with it and audited as `error`, and
    the service beside it serves."""
    token = canary("good")
    home.set_secret("github_token", token)
    home.write_config(open_service(upstream.origin, secret="github_token", name="good") + BROKEN.format(origin=upstream.origin))

    async def go(client):
        listed = await client.call_tool("list_services", {})
        good = await client.call_tool("http_request", {"service": "good", "method": "GET", "path": "/echo"})
        bad = await client.call_tool("http_request", {"service": "typo", "method": "GET", "path": "/echo"})
        cmd = await client.call_tool("run_command", {"command": "envdump", "args": []})
        return listed, good, bad, cmd

    listed, good, bad, cmd = mcp_call(home, go)
    text = text_of(listed)
    assert not listed.is_error
    assert "typo:" in text and "UNAVAILABLE" in text and "keyward://github_tokn" in text, text
    assert "keyward secret set github_tokn" in text, text
    assert "command envdump: UNAVAILABLE" in text and "keyward://gh_tokn" in text, text
    unavailable = {s["name"]: s["unavailable"] for s in listed.structured_content["services"]}
    assert unavailable["good"] is None and "github_tokn" in unavailable["typo"]

    assert not good.is_error, text_of(good)
    assert token in str(upstream.requests[-1]["headers"])
    assert token not in text_of(good)

    assert bad.is_error and "service `typo` is unavailable" in text_of(bad), text_of(bad)
    assert "keyward://github_tokn" in text_of(bad)
    assert cmd.is_error and "command `envdump` is unavailable" in text_of(cmd), text_of(cmd)
    assert len(upstream.requests) == 1, "the unavailable service was never called"

    records = home.audit()
    refused = [r for r in records if r.get("target") == "typo"]
    assert refused and refused[-1]["decision"] == "error", records
    assert "unavailable" in (refused[-1].get("error") or refused[-1].get("reason") or str(refused[-1]))
    assert [r for r in records if r.get("target") == "envdump"][-1]["decision"] == "error"
    assert [r for r in records if r.get("target") == "good"][-1]["decision"] == "allow"

    # The CLI says the same: `service list` and `doctor`.
    out = home.run("service", "list").stdout
    typo_block = out.split("typo", 1)[1]
    assert "UNAVAILABLE" in typo_block and "github_tokn" in typo_block, out
    assert "UNAVAILABLE" not in out.split("typo", 1)[0], out
    doc = home.run("doctor", check=False)
    assert doc.returncode == 1
    assert "service `typo` is unavailable" in doc.stdout and "command `envdump` is unavailable" in doc.stdout, doc.stdout
    assert token not in doc.stdout + out


def test_servers_list_shows_a_server_whose_secret_is_missing_as_unavailable(home):
    home.write_config("")
    p = home.run("servers", "add", "gh", "--env", "GITHUB_TOKEN=keyward://gh_pat", "--", "echo", "hi")
    assert "does not resolve yet" in p.stderr and "keyward secret set gh_pat" in p.stderr, p.stderr
    out = home.run("servers", "list").stdout
    assert "UNAVAILABLE" in out and "keyward://gh_pat" in out, out
    home.set_secret("gh_pat", canary("pat"))
    assert "UNAVAILABLE" not in home.run("servers", "list").stdout


def test_service_add_warns_when_the_secret_does_not_exist_yet_and_adds_it(home):
    home.write_config("")
    p = home.run(
        "service", "add", "gh", "--base-url", "https://api.github.com", "--auth", "bearer",
        "--secret", "github_tokn", "--allow", "GET /**",
    )
    assert "added service `gh`" in p.stdout
    assert "does not resolve yet" in p.stderr and "keyward secret set github_tokn" in p.stderr, p.stderr
    # With the secret there, no warning.
    home.set_secret("github_token", canary("t"))
    p = home.run(
        "service", "add", "gh2", "--base-url", "https://api.github.com", "--auth", "bearer",
        "--secret", "github_token", "--allow", "GET /**",
    )
    assert "does not resolve" not in p.stderr, p.stderr


DOC = Path(__file__).resolve().parent.parent / "docs" / "serve-http-systemd.md"


def unit_from_doc() -> str:
    text = DOC.read_text()
    return text.split("```ini\n", 1)[1].split("```", 1)[0]


def test_systemd_unit_in_the_docs_is_valid_and_its_execstart_serves(home, tmp_path):
    """The unit docs/serve-http-systemd.md shows: systemd accepts it (where
    systemd-analyze exists), its ExecStart names `keyward serve --http`,
    and that command serves and stops cleanly on SIGTERM, as the unit's
    stop does."""
    unit = unit_from_doc()
    exec_start = next(l.split("=", 1)[1] for l in unit.splitlines() if l.startswith("ExecStart="))
    argv = shlex.split(exec_start)
    assert argv[0] == "%h/.cargo/bin/keyward" and argv[1:] == ["serve", "--http"], argv
    local = unit.replace("%h/.cargo/bin/keyward", KEYWARD)
    if shutil.which("systemd-analyze"):
        f = tmp_path / "keyward-http.service"
        f.write_text(local)
        p = subprocess.run(["systemd-analyze", "verify", str(f)], capture_output=True, text=True, timeout=60)
        problems = [l for l in (p.stdout + p.stderr).splitlines() if "keyward-http.service" in l]
        assert p.returncode == 0 and not problems, p.stdout + p.stderr
    # The default address must be free to run the exact command.
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 8717))
    except OSError:
        pytest.skip("127.0.0.1:8717 is in use; the ExecStart command cannot run here")
    finally:
        s.close()
    home.write_config("")
    proc = subprocess.Popen([KEYWARD, *argv[1:]], env=home.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_file = home.dir / "run" / "http.json"
        deadline = time.monotonic() + 30
        while not run_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert run_file.exists(), proc.stderr.read() if proc.poll() is not None else "no run/http.json"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not run_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_one_missing_secret_of_a_server_disables_only_that_server(home, upstream):
    """Issue 12 item 2, for a wrapped MCP server: it is never started, its
    tools are not listed, a call to one is refused with the reason and
    audited as `error`; the service beside it serves."""
    token = canary("good")
    home.set_secret("tok", token)
    home.write_config(
        open_service(upstream.origin, secret="tok")
        + f'\n[servers.gh]\ncommand = "/bin/sh"\nargs = ["-c", "touch {home.dir}/started; sleep 60"]\n'
        + 'env = { GITHUB_TOKEN = "keyward://gh_pat" }\n[servers.gh.tools]\n"*" = "allow"\n'
    )

    async def go(client):
        tools = await client.list_tools()
        listed = await client.call_tool("list_services", {})
        bad = await client.call_tool("gh__get_me", {})
        good = await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/echo"})
        return tools, listed, bad, good

    tools, listed, bad, good = mcp_call(home, go)
    assert not [t for t in tools.tools if t.name.startswith("gh__")]
    assert "server gh (tools gh__*): UNAVAILABLE" in text_of(listed) and "keyward://gh_pat" in text_of(listed)
    assert bad.is_error and "server `gh` is unavailable" in text_of(bad) and "keyward://gh_pat" in text_of(bad), text_of(bad)
    assert not good.is_error, text_of(good)
    assert not (home.dir / "started").exists(), "the unavailable server was started"
    rec = [r for r in home.audit() if r.get("target") == "gh"][-1]
    assert rec["decision"] == "error" and rec["kind"] == "tool", rec

    p = home.run("servers", "list", "--tools", check=False)
    assert "gh: UNAVAILABLE" in p.stdout and "keyward://gh_pat" in p.stdout, p.stdout
    assert token not in p.stdout + p.stderr
