"""The CLI as a user runs it: init, secrets, services, check, audit."""

from __future__ import annotations

import json
import os
import stat
import subprocess

from conftest import KEYWARD, Home, canary, mcp_call


def test_init_creates_private_files_and_is_idempotent(home):
    for name in ["keyward.toml", "vault.kw"]:
        assert (home.dir / name).exists()
    assert stat.S_IMODE(os.stat(home.dir / "vault.kw").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home.key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home.dir).st_mode) == 0o700
    before = (home.dir / "vault.kw").read_bytes()
    p = home.run("init", env={"KEYWARD_PASSPHRASE": "another"})
    assert "kept existing vault" in p.stdout
    assert (home.dir / "vault.kw").read_bytes() == before


def test_init_without_passphrase_or_terminal_says_how(tmp_path):
    h = Home(tmp_path)
    p = h.run("init", check=False)
    assert p.returncode == 2
    assert "KEYWARD_PASSPHRASE" in p.stderr


def test_init_notes_missing_keychain_without_failing(tmp_path):
    h = Home(tmp_path)
    h.env.pop("KEYWARD_NO_KEYCHAIN")
    p = h.run("init", env={"KEYWARD_PASSPHRASE": "pw"})
    assert "no OS credential store reachable" in p.stdout


def test_secret_set_list_rm_never_show_values(home):
    value = canary("cli")
    p = home.run("secret", "set", "stripe_key", input=value + "\n")
    assert value not in p.stdout + p.stderr
    assert "stored secret `stripe_key`" in p.stdout
    p = home.run("secret", "list")
    assert "stripe_key" in p.stdout and value not in p.stdout
    assert value not in home.all_files_text(), "the vault file holds the value in clear"
    p = home.run("secret", "set", "stripe_key", input="kw_canary_second_value\r\n")
    assert "updated" in p.stdout
    home.run("secret", "rm", "stripe_key")
    assert "stripe_key" not in home.run("secret", "list").stdout
    p = home.run("secret", "rm", "stripe_key", check=False)
    assert p.returncode == 2 and "no secret named" in p.stderr


def test_secret_values_are_never_arguments(home):
    p = home.run("secret", "set", "a", "value", check=False)
    assert p.returncode != 0
    p = home.run("secret", "set", "bad name", input="x" * 10 + "\n", check=False)
    assert p.returncode == 2


def test_unlock_with_passphrase_and_wrong_passphrase(home):
    env = {"KEYWARD_VAULT_KEY_FILE": ""}
    home.env.pop("KEYWARD_VAULT_KEY_FILE")
    p = home.run("secret", "list", env=dict(env, KEYWARD_PASSPHRASE="correct horse battery staple"))
    assert p.returncode == 0
    before = (home.dir / "vault.kw").read_bytes()
    p = home.run("secret", "set", "x", input="kw_canary_wrongpass\n", env=dict(env, KEYWARD_PASSPHRASE="nope"), check=False)
    assert p.returncode == 2 and "wrong passphrase" in p.stderr
    assert (home.dir / "vault.kw").read_bytes() == before
    p = home.run("secret", "list", check=False)
    assert p.returncode == 2 and "cannot unlock the vault" in p.stderr and "hint:" in p.stderr


def test_corrupted_vault_is_a_clear_error_and_not_overwritten(home):
    home.set_secret("a", canary())
    v = home.dir / "vault.kw"
    data = bytearray(v.read_bytes())
    data[len(data) // 2] ^= 0x55
    v.write_bytes(bytes(data))
    p = home.run("secret", "set", "b", input="kw_canary_corrupt\n", check=False)
    assert p.returncode == 2
    assert v.read_bytes() == bytes(data)
    assert (home.dir / "vault.kw.prev").exists(), "the previous generation is kept"


def test_service_add_list_check_rm_keeps_comments(home):
    cfg = home.dir / "keyward.toml"
    cfg.write_text("# my own comment\n" + cfg.read_text())
    home.run(
        "service", "add", "stripe",
        "--base-url", "https://api.stripe.com",
        "--auth", "bearer", "--secret", "stripe_key",
        "--allow", "GET /v1/charges/**",
        "--allow", "GET /v1/charges",
        "--deny", "* /v1/charges/secret/**",
    )
    text = cfg.read_text()
    assert text.startswith("# my own comment\n")
    p = home.run("service", "list")
    assert "stripe  https://api.stripe.com/  auth=bearer keyward://stripe_key" in p.stdout
    p = home.run("check", "stripe", "POST", "/v1/charges", check=False)
    assert p.returncode == 1 and p.stdout.startswith("deny: denied: no rule allows POST /v1/charges on stripe")
    p = home.run("check", "stripe", "GET", "/v1/charges/ch_1")
    assert p.stdout.startswith("allow: allowed by rule #1")
    p = home.run("check", "stripe", "GET", "/v1/charges/secret/x", check=False)
    assert p.returncode == 1 and "rule #3" in p.stdout
    p = home.run("check", "stripe", "GET", "/v1/charges/../admin", check=False)
    assert p.returncode == 1 and "rejected" in p.stdout
    p = home.run("service", "add", "stripe", "--base-url", "https://x", "--auth", "none", check=False)
    assert p.returncode == 2 and "already exists" in p.stderr
    p = home.run("service", "add", "bad", "--base-url", "https://x", "--auth", "basic", "--secret", "s", check=False)
    assert p.returncode == 2 and "--username" in p.stderr
    home.run("service", "rm", "stripe")
    assert "stripe" not in home.run("service", "list").stdout
    assert cfg.read_text().startswith("# my own comment\n")


def test_broken_config_is_reported_with_its_key(home):
    home.write_config('[services.s]\nbase_url = "https://x"\n[[services.s.rules]]\naction = "allow"\npaths = ["/a/../b"]\n', approve=False)
    # Validated before it can be approved (serve keeps the approved one meanwhile).
    p = home.approve(check=False)
    assert p.returncode == 2
    assert "services.s.rules[0].paths" in p.stderr and "hint: fix keyward.toml" in p.stderr


def test_missing_secret_is_named_at_startup(home):
    home.write_config('[services.s]\nbase_url = "https://x"\nauth = { type = "bearer", secret = "not_there" }\n')
    p = home.run("serve", check=False)
    assert p.returncode == 2
    assert "not_there" in p.stderr and "keyward secret set" in p.stderr


def test_audit_shows_and_verify_detects_tampering(home, upstream):
    value = canary("audit")
    home.set_secret("tok", value)
    upstream.leak = value
    home.write_config(f"""
[services.s]
base_url = "{upstream.origin}"
auth = {{ type = "bearer", secret = "tok" }}
[[services.s.rules]]
action = "allow"
paths = ["/ok", "/status-leak"]
""")

    async def go(client):
        for p in ["/ok", "/denied", "/status-leak", "/ok"]:
            await client.call_tool("http_request", {"service": "s", "method": "GET", "path": p})

    # The config approvals (init's, write_config's) come first: k records.
    k = len(home.audit(config=True))
    mcp_call(home, go)
    p = home.run("audit")
    lines = p.stdout.strip().splitlines()[k:]
    assert len(lines) == 4 and "deny" in lines[1] and "/denied" in lines[1]
    assert len(home.run("audit", "-n", "2").stdout.strip().splitlines()) == 2
    raw = home.run("audit", "--json").stdout.strip().splitlines()[k:]
    assert json.loads(raw[0])["decision"] == "allow"
    assert value not in home.all_files_text(), "a secret reached the audit log or stderr"
    assert home.run("audit", "verify").stdout.startswith(f"ok: {k + 4} records")

    log = home.dir / "audit.jsonl"
    good = log.read_text().splitlines()
    tampered = json.loads(good[k + 1])
    tampered["decision"] = "allow"
    before = good[: k + 1]
    for name, lines_ in {
        "edited": [*before, json.dumps(tampered, separators=(",", ":")), *good[k + 2 :]],
        "removed": [*before, *good[k + 2 :]],
        "reordered": [*before, good[k + 2], good[k + 1], good[k + 3]],
    }.items():
        log.write_text("\n".join(lines_) + "\n")
        p = home.run("audit", "verify", check=False)
        assert p.returncode == 1, name
        assert f"line {k + 2}" in p.stdout, (name, p.stdout)
    log.write_text("\n".join(good) + "\n")
    assert home.run("audit", "verify").returncode == 0

    # Cutting records off the end leaves a valid chain; the head file catches it,
    # and `keyward serve` refuses to extend the cut log (fail closed).
    log.write_text("\n".join(good[: k + 2]) + "\n")
    p = home.run("audit", "verify", check=False)
    assert p.returncode == 1 and f"records {k + 3} to {k + 4} were removed" in p.stdout + p.stderr, p.stdout + p.stderr
    p = home.run("check", "s", "GET", "/ok")  # unrelated commands still work
    mcp = subprocess.run([KEYWARD, "serve"], input="", capture_output=True, text=True, env=home.env, timeout=30)
    assert mcp.returncode != 0 and f"head file says {k + 4}" in mcp.stderr, mcp.stderr


def test_help_works_without_home(tmp_path):
    p = subprocess.run([KEYWARD, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "credential gateway" in p.stdout
