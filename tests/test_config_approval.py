"""Rules the agent cannot change (SECURITY.md item 6): `keyward serve` runs
the last keyward.toml a human approved with the vault passphrase; an edit
is effective only after `keyward config approve`."""

from __future__ import annotations

import shutil

from conftest import PASSPHRASE, mcp_call, open_service, text_of

WITH_PASS = {"KEYWARD_PASSPHRASE": PASSPHRASE}


def get_only(origin: str) -> str:
    return open_service(origin, methods=["GET"])


def post(home, path="/v1/x", service="s"):
    async def go(client):
        return await client.call_tool("http_request", {"service": service, "method": "POST", "path": path})

    return mcp_call(home, go)


def approved_copy(home):
    return home.dir / "approved" / "keyward.toml"


def serve_fails(home) -> str:
    p = home.run("serve", input="", check=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    return p.stderr


def test_an_edit_is_not_effective_before_approval(home, upstream):
    home.write_config(get_only(upstream.origin))
    # The agent, running as the user, widens the rule in the file.
    home.write_config(open_service(upstream.origin), approve=False)
    r = post(home)
    assert r.is_error and "no rule allows POST" in text_of(r), text_of(r)
    assert upstream.requests == []
    err = home.stderr_log.read_text()
    assert "keyward.toml has changes that are not approved yet; serving the last approved config" in err
    assert "keyward config diff" in err and "keyward config approve" in err
    pending = [r for r in home.audit(config=True) if r["kind"] == "config" and r["decision"] == "pending"]
    assert len(pending) == 1 and pending[0]["target"] == "keyward.toml", pending

    p = home.approve()
    assert '+methods = ["GET"]' not in p.stdout and '-methods = ["GET"]' in p.stdout, p.stdout
    assert "approved keyward.toml" in p.stdout
    r = post(home)
    assert not r.is_error, text_of(r)
    assert len(upstream.requests) == 1
    approvals = [r for r in home.audit(config=True) if r["decision"] == "approved"]
    assert [a["agent"] for a in approvals] == ["keyward init", "keyward config approve", "keyward config approve"]


def test_a_wrong_or_missing_passphrase_approves_nothing(home, upstream):
    home.write_config(get_only(upstream.origin))
    before = approved_copy(home).read_bytes()
    home.write_config(open_service(upstream.origin), approve=False)

    p = home.run("config", "approve", env={"KEYWARD_PASSPHRASE": "not the passphrase"}, check=False)
    assert p.returncode == 2 and "wrong passphrase: nothing was approved" in p.stderr, p.stderr
    # The key file opens the vault, but a key is not the human's passphrase.
    p = home.run("config", "approve", check=False)
    assert p.returncode == 2 and "needs the vault passphrase" in p.stderr, p.stderr
    assert approved_copy(home).read_bytes() == before
    assert home.run("config", "diff", check=False).returncode == 1
    r = post(home)
    assert r.is_error and upstream.requests == []
    denied = [r for r in home.audit(config=True) if r["kind"] == "config" and r["decision"] == "deny"]
    assert len(denied) == 1 and "wrong passphrase" in denied[0]["error"]


def test_a_tampered_approved_copy_refuses_to_start(home, upstream):
    home.write_config(get_only(upstream.origin))
    agent_edit = open_service(upstream.origin)
    home.write_config(agent_edit, approve=False)
    seal = home.dir / "approved" / "keyward.toml.seal"
    good_seal = seal.read_bytes()

    # The agent makes the approved copy match its own edit.
    approved_copy(home).write_text(agent_edit)
    err = serve_fails(home)
    assert "the approved copy of keyward.toml cannot be trusted" in err and "keyward config approve" in err
    # `config diff` does not take the copy's word for it.
    p = home.run("config", "diff", check=False)
    assert p.returncode == 1 and "the approved copy is not trusted" in p.stderr
    assert '+action = "allow"' in p.stdout and "+[services.s]" in p.stdout, p.stdout

    # A seal of its own making (garbage), or none at all.
    seal.write_bytes(b"KWSEAL1\n" + b"\0" * 64)
    assert "cannot be trusted" in serve_fails(home)
    seal.unlink()
    assert "seal file is missing" in serve_fails(home)
    # Deleting the whole record is not a way to get trusted either.
    shutil.rmtree(home.dir / "approved")
    err = serve_fails(home)
    assert "no approved config" in err and "keyward config approve" in err
    assert upstream.requests == []

    # The human reviews and approves: everything is shown as new.
    p = home.approve()
    assert "+[services.s]" in p.stdout
    r = post(home)
    assert not r.is_error, text_of(r)
    assert good_seal != seal.read_bytes()


def test_config_diff_shows_changes_and_exits_1(home, upstream):
    p = home.run("config", "diff")
    assert p.returncode == 0 and "keyward.toml is the approved config" in p.stdout
    home.write_config(get_only(upstream.origin))
    assert home.run("config", "diff").returncode == 0

    home.write_config(open_service(upstream.origin) + "# agent was here\n", approve=False)
    p = home.run("config", "diff", check=False)
    assert p.returncode == 1, p
    lines = p.stdout.splitlines()
    assert lines[0].startswith("--- approved (") and lines[1].startswith("+++ keyward.toml (")
    assert '-methods = ["GET"]' in lines and "+# agent was here" in lines, p.stdout
    assert ' action = "allow"' in lines, "context lines are shown"
    assert "+1 -1 lines not approved" in p.stdout
    # Showing the diff approved nothing.
    assert home.run("config", "diff", check=False).returncode == 1

    # A line that would redraw the terminal is shown escaped, and the
    # invalid file is named as such.
    home.write_config(get_only(upstream.origin) + "x = '\x1b[1A\x1b[2K'\n", approve=False)
    p = home.run("config", "diff", check=False)
    assert p.returncode == 1 and "\x1b" not in p.stdout + p.stderr
    assert "+x = '\\u{1b}[1A\\u{1b}[2K'" in p.stdout, p.stdout
    assert "not valid" in p.stderr
    p = home.approve(check=False)
    assert p.returncode == 2 and "hint: fix keyward.toml" in p.stderr
    # keyward keeps serving the approved config meanwhile.
    r = post(home)
    assert r.is_error and "no rule allows POST" in text_of(r)
    assert "keyward.toml is not valid" in home.stderr_log.read_text()


def test_init_approves_the_initial_config(home):
    assert (home.dir / "approved" / "keyward.toml").read_text() == (home.dir / "keyward.toml").read_text()
    [rec] = [r for r in home.audit(config=True) if r["kind"] == "config"]
    assert rec["agent"] == "keyward init" and rec["decision"] == "approved"
    # A second init with an existing vault approves nothing.
    (home.dir / "keyward.toml").write_text("# edited\n")
    home.run("init", env=WITH_PASS)
    assert home.run("config", "diff", check=False).returncode == 1


def test_a_home_from_before_approval_must_be_approved_once(home, upstream):
    home.write_config(get_only(upstream.origin))
    shutil.rmtree(home.dir / "approved")
    assert "no approved config" in serve_fails(home)
    p = home.run("init", env=WITH_PASS)
    assert "has not been approved" in p.stdout
    p = home.run("config", "diff", check=False)
    assert p.returncode == 1 and "nothing has been approved" in p.stderr
    home.approve()
    assert home.run("config", "diff").returncode == 0
    r = post(home)
    assert r.is_error and "no rule allows POST" in text_of(r)


def test_cli_edits_approve_themselves_with_the_passphrase(home, upstream):
    add = ["service", "add", "up", "--base-url", upstream.origin, "--auth", "none", "--allow", "POST /**"]
    p = home.run(*add, env=WITH_PASS)
    assert "approved:" in p.stdout, p.stdout + p.stderr
    assert home.run("config", "diff").returncode == 0
    r = post(home, service="up")
    assert not r.is_error, text_of(r)

    p = home.run("servers", "add", "fs", "--allow", "read_*", "--", "true", env=WITH_PASS)
    assert "approved:" in p.stdout and home.run("config", "diff").returncode == 0
    p = home.run("servers", "rm", "fs", env=WITH_PASS)
    assert "approved:" in p.stdout and home.run("config", "diff").returncode == 0
    p = home.run("service", "rm", "up", env=WITH_PASS)
    assert "approved:" in p.stdout and home.run("config", "diff").returncode == 0
    agents = [r["agent"] for r in home.audit(config=True) if r["decision"] == "approved"]
    assert agents[-4:] == ["keyward service add", "keyward servers add", "keyward servers rm", "keyward service rm"]

    # A wrong passphrase stops the edit before anything is written.
    before = (home.dir / "keyward.toml").read_bytes()
    p = home.run(*add, env={"KEYWARD_PASSPHRASE": "wrong"}, check=False)
    assert p.returncode == 2 and "passphrase" in p.stderr, p.stderr
    assert (home.dir / "keyward.toml").read_bytes() == before

    # Without a passphrase the edit is written and waits for approval.
    p = home.run(*add)
    assert "not approved yet" in p.stderr and "approved:" not in p.stdout
    assert home.run("config", "diff", check=False).returncode == 1
    r = post(home, service="up")
    assert r.is_error and "unknown service `up`" in text_of(r), text_of(r)
    assert len(upstream.requests) == 1



def test_cli_edits_do_not_launder_unapproved_changes(home, upstream):
    home.write_config(get_only(upstream.origin))
    agent_edit = open_service(upstream.origin)
    home.write_config(agent_edit, approve=False)
    # The human adds a service, passphrase at hand.
    p = home.run("service", "add", "other", "--base-url", upstream.origin, "--auth", "none",
                 "--allow", "GET /**", env=WITH_PASS)
    assert "NOT approved" in p.stderr and "already differed" in p.stderr, p.stderr
    assert "approved:" not in p.stdout
    p = home.run("config", "diff", check=False)
    assert p.returncode == 1 and "+[services.other]" in p.stdout
    # The agent's part is named setting by setting, whatever the line diff's alignment.
    assert '  - services.s.rules[0].methods = ["GET"]\n' in p.stdout and "  + services.other\n" in p.stdout
    r = post(home)
    assert r.is_error and "no rule allows POST" in text_of(r)
    assert upstream.requests == []


def test_import_approves_itself_only_with_the_passphrase(home, tmp_path):
    cfg = tmp_path / "mcp.json"
    cfg.write_text('{"mcpServers": {"gh": {"command": "npx", "args": ["-y", "server-github"], '
                   '"env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"}}}}')
    p = home.run("import", str(cfg), env=WITH_PASS)
    assert "approved:" in p.stdout, p.stdout + p.stderr
    assert home.run("config", "diff").returncode == 0
    p = home.run("import", "--undo", env=WITH_PASS)
    assert "approved:" in p.stdout, p.stdout + p.stderr
    assert home.run("config", "diff").returncode == 0
    p = home.run("import", str(cfg))
    assert "not approved yet" in p.stderr
    assert home.run("config", "diff", check=False).returncode == 1


def test_servers_commands_never_start_a_server_only_the_unapproved_file_has(home, tmp_path):
    """`servers list --tools` and `servers accept` start server commands:
    an agent's edit must not get a command run by the human's next look."""
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    home.write_config("")
    home.write_config(
        f'[servers.evil]\ncommand = "{script}"\n[servers.evil.tools]\n"*" = "allow"\n', approve=False
    )
    p = home.run("servers", "list", "--tools", check=False)
    assert "no servers yet" in p.stdout, p.stdout + p.stderr
    p = home.run("servers", "accept", "evil", env=WITH_PASS, check=False)
    assert p.returncode != 0 and "evil" in p.stderr
    assert not marker.exists(), "a command from the unapproved keyward.toml was run"
