"""`keyward run` (secrets into a program's environment, then exec) and
`keyward servers add | list | rm | accept`, driven through the real binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import KEYWARD, canary

PASSPHRASE = "correct horse battery staple"


def env_of(output: str) -> dict[str, str]:
    """`/usr/bin/env -0` output as a dict."""
    out = {}
    for entry in output.split("\0"):
        if entry:
            k, _, v = entry.partition("=")
            out[k] = v
    return out


def run(home, *args, env=None, input=None, check=False):
    return home.run("run", *args, env=env, input=input, check=check)


# --------------------------------------------------------------- keyward run


def test_run_injects_a_vault_secret_and_keeps_keywards_own_secrets(home):
    value = canary("run")
    pass_canary = canary("pass")
    home.set_secret("pg_url", value)
    p = run(
        home,
        "--",
        "/usr/bin/env",
        "-0",
        env={
            "DATABASE_URL": "keyward://pg_url",
            # The key file opens the vault first; this must still never reach the child.
            "KEYWARD_PASSPHRASE": pass_canary,
        },
        check=True,
    )
    child = env_of(p.stdout)
    assert child["DATABASE_URL"] == value
    assert "KEYWARD_PASSPHRASE" not in child
    assert "KEYWARD_VAULT_KEY_FILE" not in child
    assert pass_canary not in p.stdout + p.stderr
    assert str(home.key_file) not in p.stdout
    # The rest of the environment is passed on as it was.
    assert child["KEYWARD_HOME"] == str(home.dir)
    assert child["PATH"] == home.env["PATH"]
    assert value not in p.stderr


def test_run_keeps_literals_literal(home):
    p = run(
        home,
        "--",
        "/usr/bin/env",
        "-0",
        env={
            "DATABASE_URL": "production",  # a bare name is not a reference here
            "PG": "postgres://user@db/app",  # another scheme: ordinary text
            "SPACED": " keyward://pg_url",  # not the whole value
            "KEYWARD_VAULT_KEY_FILE": "",  # nothing needs the vault
        },
        check=True,
    )
    child = env_of(p.stdout)
    assert child["DATABASE_URL"] == "production"
    assert child["PG"] == "postgres://user@db/app"
    assert child["SPACED"] == " keyward://pg_url"


def test_run_resolves_env_file_and_flag_references(home, tmp_path):
    a, b, c = canary("envref"), canary("fileref"), canary("flag")
    secret_file = tmp_path / "tok.txt"
    secret_file.write_text(b + "\n")
    home.set_secret("api_key", c)
    p = run(
        home,
        "--env",
        "API_KEY=api_key",  # a bare name after --env is a vault name
        "--env",
        "FROM_FLAG=env://SOURCE",
        "--",
        "/usr/bin/env",
        "-0",
        env={
            "SOURCE": a,
            "FROM_ENV": "ENV://SOURCE",
            "FROM_FILE": f"file://{secret_file}",
            "API_KEY": "keyward://not_used_the_flag_wins",
        },
        check=True,
    )
    child = env_of(p.stdout)
    assert child["FROM_FLAG"] == a
    assert child["FROM_ENV"] == a
    assert child["FROM_FILE"] == b
    assert child["API_KEY"] == c


def test_run_unresolvable_reference_exits_2_naming_it_and_no_value(home):
    good = canary("good")
    home.set_secret("good", good)
    p = run(
        home,
        "--",
        "/usr/bin/env",
        env={"OK_VAR": "keyward://good", "DATABASE_URL": "keyward://missing_one"},
    )
    assert p.returncode == 2
    assert p.stdout == "", "the program must not have run"
    assert "DATABASE_URL" in p.stderr and "keyward://missing_one" in p.stderr
    assert "keyward secret set missing_one" in p.stderr
    assert good not in p.stderr

    p = run(home, "--env", "X=env://NOT_SET_ANYWHERE", "--", "/usr/bin/env")
    assert p.returncode == 2
    assert "--env X" in p.stderr and "env://NOT_SET_ANYWHERE" in p.stderr


def test_run_never_echoes_a_pasted_value(home):
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9x" + canary("pasted")[-8:]
    for flag in [token, f"TOKEN={token}"]:
        p = run(home, "--env", flag, "--", "/usr/bin/env")
        assert p.returncode == 2
        assert token not in p.stdout + p.stderr


def test_run_refuses_to_hand_over_the_passphrase(home):
    p = run(
        home,
        "--",
        "/usr/bin/env",
        env={"P": "env://KEYWARD_PASSPHRASE", "KEYWARD_PASSPHRASE": PASSPHRASE},
    )
    assert p.returncode == 2
    assert "keyward's own secret" in p.stderr and PASSPHRASE not in p.stdout + p.stderr


def test_run_missing_program_exits_2(home):
    p = run(home, "--", "no-such-program-kw")
    assert p.returncode == 2 and "no-such-program-kw" in p.stderr and "PATH" in p.stderr
    p = run(home, "--", "/nonexistent/prog")
    assert p.returncode == 2 and "/nonexistent/prog" in p.stderr
    p = run(home)
    assert p.returncode == 2


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_run_secret_is_never_in_argv(home):
    value = canary("argv")
    home.set_secret("tok", value)
    p = run(
        home,
        "--env",
        "TOKEN=keyward://tok",
        "--",
        "/bin/cat",
        "/proc/self/cmdline",
        env={"OTHER": "keyward://tok"},
        check=True,
    )
    assert p.stdout.split("\0") == ["/bin/cat", "/proc/self/cmdline", ""]
    assert value not in p.stdout


def test_run_passes_stdin_through_untouched(home):
    home.set_secret("tok", canary("stdin"))
    data = 'hi\n{"jsonrpc":"2.0","id":1,"method":"ping"}\nlast line without newline'
    # A keyward:// reference makes it unlock the vault first, with no prompt
    # and without reading stdin.
    p = run(home, "--", "/bin/cat", env={"TOKEN": "keyward://tok"}, input=data, check=True)
    assert p.stdout == data
    p = subprocess.run(
        f"echo hi | {KEYWARD} run -- /bin/cat", shell=True, capture_output=True, text=True, env=home.env, timeout=60
    )
    assert p.returncode == 0 and p.stdout == "hi\n"


def test_run_replaces_itself_with_the_program(home):
    # Same pid: keyward exec'd the program rather than running it as a child;
    # the exit status is the program's own.
    proc = subprocess.Popen(
        [KEYWARD, "run", "--", "/bin/sh", "-c", 'echo "$$"; exit 7'],
        stdout=subprocess.PIPE,
        text=True,
        env=home.env,
    )
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 7
    assert int(out.strip()) == proc.pid


def test_run_unlocks_only_when_a_vault_reference_needs_it(home, tmp_path):
    env = {"KEYWARD_VAULT_KEY_FILE": "", "MODE": "production"}
    p = run(home, "--", "/usr/bin/env", "-0", env=dict(env, T="env://MODE"), check=True)
    assert env_of(p.stdout)["T"] == "production"
    p = run(home, "--", "/usr/bin/env", env=dict(env, DATABASE_URL="keyward://pg_url"))
    assert p.returncode == 2
    assert "cannot unlock the vault" in p.stderr and "DATABASE_URL" in p.stderr
    assert "hint:" in p.stderr
    # With the passphrase it unlocks, and the passphrase still stays behind.
    home.set_secret("pg_url", "kw_canary_pg_value_12345")
    p = run(
        home,
        "--",
        "/usr/bin/env",
        "-0",
        env=dict(env, DATABASE_URL="keyward://pg_url", KEYWARD_PASSPHRASE=PASSPHRASE),
        check=True,
    )
    child = env_of(p.stdout)
    assert child["DATABASE_URL"] == "kw_canary_pg_value_12345"
    assert "KEYWARD_PASSPHRASE" not in child and PASSPHRASE not in p.stdout


def test_run_needs_no_keyward_home_without_vault_references():
    # MCP clients may start it with a bare environment: no HOME, no KEYWARD_HOME.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MODE": "production", "T": "env://MODE"}
    p = subprocess.run(
        [KEYWARD, "run", "--", "/usr/bin/env", "-0"], capture_output=True, text=True, env=env, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert env_of(p.stdout)["T"] == "production"


# ----------------------------------------------------------- keyward servers

USER_CONFIG = """# my own notes: keep me

[services.s]
base_url = "https://api.example.com"   # inline comment
"""


def config_text(home) -> str:
    return (home.dir / "keyward.toml").read_text()


def test_servers_add_list_rm_round_trip_keeps_comments(home):
    home.write_config(USER_CONFIG)
    p = home.run(
        "servers",
        "add",
        "github",
        "--env",
        "GITHUB_PERSONAL_ACCESS_TOKEN=keyward://github_pat",
        "--env",
        "LOG_LEVEL=info",
        "--allow",
        "get_*",
        "--allow",
        "list_*",
        "--deny",
        "delete_*",
        "--",
        "npx",
        "-y",
        "@modelcontextprotocol/server-github",
    )
    assert "added server `github`" in p.stdout
    assert "LOG_LEVEL" in p.stderr and "plain text" in p.stderr
    text = config_text(home)
    assert text.startswith(USER_CONFIG), text
    assert '[servers.github.tools]\n"get_*" = "allow"\n"list_*" = "allow"\n"delete_*" = "deny"\n' in text
    assert "every tool is denied" not in text, "the empty-table hint goes once there are rules"

    home.run("servers", "add", "fs", "--", "/usr/bin/env", "a b", "--flag")
    p = home.run("servers", "list")
    lines = p.stdout.splitlines()
    gh = lines.index("github  npx -y @modelcontextprotocol/server-github")
    assert lines[gh + 1 : gh + 6] == [
        "  env GITHUB_PERSONAL_ACCESS_TOKEN = keyward://github_pat",
        "  env LOG_LEVEL = (literal, not shown)",
        "  allow get_*",
        "  allow list_*",
        "  deny delete_*",
    ]
    fs = lines.index("fs  /usr/bin/env 'a b' --flag")
    assert lines[fs + 1] == "  (no tool rules: every tool is denied)"

    home.run("servers", "rm", "github")
    home.run("servers", "rm", "fs")
    assert config_text(home) == USER_CONFIG
    assert "no servers yet" in home.run("servers", "list").stdout


def test_servers_list_never_shows_a_value(home):
    literal = canary("literal")
    header = canary("header")
    query = canary("query")
    home.set_secret("gh_pat", canary("vault"))
    home.write_config(
        "[servers.local]\n"
        'command = "npx"\n'
        f'env = {{ TOKEN = "keyward://gh_pat", PASTED = "{literal}" }}\n'
        "[servers.local.tools]\n"
        '"get_*" = "allow"\n'
        '"create_issue" = { action = "confirm", rate = "10/hour" }\n'
        "[servers.remote]\n"
        f'url = "https://mcp.example.com/mcp?key={query}"\n'
        f'headers = {{ Authorization = "Bearer keyward://gh_pat", X-Extra = "{header}" }}\n'
    )
    p = home.run("servers", "list")
    for v in [literal, header, query]:
        assert v not in p.stdout + p.stderr
    assert "  env TOKEN = keyward://gh_pat" in p.stdout
    assert "  env PASTED = (literal, not shown)" in p.stdout
    assert "  confirm create_issue (10/hour)" in p.stdout
    assert "remote  https://mcp.example.com/mcp?(query not shown)" in p.stdout
    assert "  header Authorization = Bearer keyward://gh_pat" in p.stdout
    assert "  header X-Extra = (literal, not shown)" in p.stdout


def test_servers_errors_are_clear_and_change_nothing(home):
    home.write_config(USER_CONFIG)
    home.run("servers", "add", "fs", "--", "npx", "-y", "server-filesystem")
    before = config_text(home)

    def fails(*args, says):
        p = home.run(*args, check=False)
        assert p.returncode == 2, p
        assert says in p.stderr, p.stderr
        assert config_text(home) == before
        return p

    fails("servers", "add", "fs", "--", "npx", says="server `fs` already exists")
    fails("servers", "rm", "nope", says="no server named `nope`")
    fails("servers", "add", "Bad", "--", "npx", says="invalid server name")
    fails("servers", "add", "x", "--allow", "get_*", "--deny", "get_*", "--", "npx", says="given twice")
    fails("servers", "add", "x", "--allow", "a b", "--", "npx", says="--allow a b")
    fails("servers", "add", "x", "--", "./relative", says="relative path")
    fails("servers", "add", "x", "--env", "1BAD=keyward://a", "--", "npx", says="servers.x.env")
    # A whole argument may be a reference (issue 12, item 9); one glued to
    # other text would pass on literally: refused.
    fails("servers", "add", "x", "--", "srv", "--token=keyward://tok", says="must be a whole argument")
    token = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9x0"
    p = fails("servers", "add", "x", "--env", token, "--", "npx", says="KEY=REF")
    assert token not in p.stderr
    # Added without the passphrase: not approved, so never started.
    fails("servers", "accept", "fs", says="not in the approved config yet")
    home.run("config", "approve", env={"KEYWARD_PASSPHRASE": "correct horse battery staple"})
    fails("servers", "accept", "fs", says="needs the vault passphrase")
    fails("servers", "accept", "nope", says="nope")


def test_servers_without_init_says_so(tmp_path):
    from conftest import Home

    h = Home(tmp_path)
    p = h.run("servers", "list", check=False)
    assert p.returncode == 2 and "keyward init" in p.stderr
