"""`keyward scan` end to end: the real binary over real-shaped configs of
every MCP client (tests/client_fixtures.py) under a fake HOME, with canary
secrets in the providers' real formats. It must report all and only the
planted ones, agree across table/JSON/SARIF, exit 1/0/2 as documented,
and never print a value."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from conftest import KEYWARD
from client_fixtures import Fixtures, build_dotfiles, build_fixtures


@pytest.fixture
def fx(tmp_path: Path) -> Fixtures:
    if not Path(KEYWARD).exists():
        pytest.fail(f"keyward binary not found at {KEYWARD}: run `cargo build` first")
    return build_fixtures(tmp_path / "home", tmp_path / "project")


def scan(fx_or_home, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    home = fx_or_home.home if isinstance(fx_or_home, Fixtures) else fx_or_home
    cwd = cwd or (fx_or_home.project if isinstance(fx_or_home, Fixtures) else home)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        [KEYWARD, "scan", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def keyset(findings) -> set[tuple[str, str, str]]:
    return {(str(f["file"]), f["path"], f["rule"]) for f in findings}


def planted_set(fx: Fixtures) -> set[tuple[str, str, str]]:
    return {(str(p.file), p.path, p.rule) for p in fx.planted}


def precision_recall(found: set, expected: set) -> tuple[float, float]:
    hit = len(found & expected)
    precision = hit / len(found) if found else 1.0
    recall = hit / len(expected) if expected else 1.0
    return precision, recall


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Every secret with some 8 characters (past a known prefix) that
    appear in `text`. Masked previews show a prefix and the last 4 only."""
    out = []
    for s in secrets:
        plen = next((len(p) for p in PREFIXES if s.startswith(p)), 0)
        if any(s[i : i + 8] in text for i in range(max(0, plen - 7), len(s) - 7)):
            out.append(s)
    return out


PREFIXES = sorted(
    ["github_pat_", "ghp_", "sk_live_", "sk_test_", "rk_live_", "xoxb-", "AKIA", "sk-proj-", "sk-ant-api03-",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "https://hooks.slack.com/services/", "postgresql://app:", "postgres://app:"],
    key=len,
    reverse=True,
)


def test_leak_check_catches_a_planted_leak():
    secret = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    assert leaks(f"oops {secret[10:22]} here", [secret]) == [secret]
    assert leaks("ghp_…jJ6 only the preview", [secret]) == []


def test_finds_all_and_only_the_planted_secrets(fx: Fixtures):
    p = scan(fx, "--json")
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    found = keyset(out["findings"])
    expected = planted_set(fx)
    precision, recall = precision_recall(found, expected)
    print(f"\nscan over {len(fx.files)} client files: {len(expected)} planted, {len(found)} found, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert found - expected == set(), "false positives"
    assert expected - found == set(), "missed"
    assert (precision, recall) == (1.0, 1.0)
    # Lines and previews.
    by_key = {(f["file"], f["path"]): f for f in out["findings"]}
    for pl in fx.planted:
        f = by_key[(str(pl.file), pl.path)]
        assert f["line"] == pl.line, (pl.path, f["line"], pl.line)
        head, _, tail = f["preview"].partition("…")
        assert len(tail) == 4 and pl.value.startswith(head), f["preview"]
        # A URL's preview ends at the host; everything else at the secret's end.
        assert tail in pl.raw if pl.rule == "database-url-password" else pl.value.endswith(tail)
    # Every client location was checked and every fixture file read.
    assert out["checked"] == 12
    assert sorted(out["scanned"]) == sorted(str(f) for f in fx.files)
    assert out["errors"] == []
    # The decoys are not among the findings.
    decoy_paths = {(str(d.file), d.path) for d in fx.decoys}
    assert not decoy_paths & {(f["file"], f["path"]) for f in out["findings"]}


def token_like(fx: Fixtures) -> list[str]:
    """Planted secrets, and decoys in real token formats (a commented-out
    token, a hex `userID`): none of them may be printed either."""
    return fx.secrets() + [d.value for d in fx.decoys if re.fullmatch(r"[A-Za-z0-9_]{32,}", d.value)]


def test_no_value_reaches_stdout_or_stderr(fx: Fixtures):
    secrets = token_like(fx)
    for args in ([], ["--json"], ["--sarif"]):
        p = scan(fx, *args)
        assert p.returncode == 1
        assert leaks(p.stdout + p.stderr, secrets) == [], args


def test_no_value_in_the_terminal_table(fx: Fixtures):
    """On a TTY the table is coloured; it still holds no value."""
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(fx.home), "TERM": "xterm"}
    proc = subprocess.Popen([KEYWARD, "scan"], cwd=fx.project, env=env, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    os.close(master)
    assert proc.wait(timeout=60) == 1
    out = b"".join(chunks).decode()
    assert "\x1b[1m" in out, out
    assert "plaintext secrets in" in out
    assert leaks(out, fx.secrets()) == []


def test_plain_table_lists_every_finding(fx: Fixtures):
    p = scan(fx)
    assert p.returncode == 1
    assert "\x1b" not in p.stdout, "no ANSI escapes when stdout is not a terminal"
    for pl in fx.planted:
        assert str(pl.file) in p.stdout
        assert pl.path in p.stdout, pl.path
    files = len({pl.file for pl in fx.planted})
    assert f"{len(fx.planted)} plaintext secrets in {files} files (12 locations checked, 12 files scanned)" in p.stdout


def test_json_and_sarif_carry_the_same_findings(fx: Fixtures):
    j = json.loads(scan(fx, "--json").stdout)
    s = json.loads(scan(fx, "--sarif").stdout)

    # SARIF 2.1.0 shape.
    assert s["version"] == "2.1.0"
    assert s["$schema"].endswith("sarif-2.1.0.json")
    assert len(s["runs"]) == 1
    run = s["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "keyward"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) and "github-pat" in rule_ids
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["defaultConfiguration"]["level"] == "error"
    sarif_set = set()
    for res in run["results"]:
        assert res["ruleId"] in rule_ids
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note", "none")
        assert isinstance(res["message"]["text"], str) and res["message"]["text"]
        loc = res["locations"][0]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("file:///")
        line = loc["physicalLocation"]["region"]["startLine"]
        assert isinstance(line, int) and line >= 1
        from urllib.parse import unquote, urlparse

        path = unquote(urlparse(uri).path)
        sarif_set.add((path, loc["logicalLocations"][0]["fullyQualifiedName"], res["ruleId"], line))
    assert run["invocations"][0]["executionSuccessful"] is True

    json_set = {(f["file"], f["path"], f["rule"], f["line"]) for f in j["findings"]}
    assert sarif_set == json_set
    assert {(a, b, c) for a, b, c, _ in json_set} == planted_set(fx)


def test_exit_codes(tmp_path: Path):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    clean = scan(home, cwd=project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no plaintext secrets found (12 locations checked, 0 files scanned)" in clean.stdout

    (project / ".mcp.json").write_text('{"mcpServers": {"a": {"env": {"T": "${T}"}}}}')
    assert scan(home, cwd=project).returncode == 0

    # A PATH that does not exist, or a file that is not valid: 2.
    p = scan(home, str(tmp_path / "missing.json"), cwd=project)
    assert p.returncode == 2
    assert "missing.json" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"mcpServers": {"a": "ghp_' + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6" + '" "oops"')
    p = scan(home, str(bad), cwd=project)
    assert p.returncode == 2
    assert "line" in p.stderr and "Ab3dE6gH9jK2" not in p.stderr + p.stdout

    # A finding wins over an error: 1, and the error is still reported.
    env = tmp_path / ".env"
    env.write_text("GITHUB_TOKEN=ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6\n")
    p = scan(home, str(bad), str(env), cwd=project)
    assert p.returncode == 1
    assert "bad.json" in p.stderr
    assert "1 file could not be scanned" in p.stdout

    # Usage errors are 2 (clap).
    assert scan(home, "--json", "--sarif", cwd=project).returncode == 2


def test_scan_env_and_bashrc_paths(tmp_path: Path):
    d = tmp_path / "dots"
    dots = build_dotfiles(d)
    p = scan(tmp_path, ".env", ".bashrc", "--json", cwd=d)
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert keyset(out["findings"]) == planted_set(dots)
    assert out["checked"] == 2
    lines = {f["path"]: f["line"] for f in out["findings"]}
    assert lines == {pl.path: pl.line for pl in dots.planted}
    assert leaks(p.stdout + p.stderr, token_like(dots)) == []


def test_scan_a_directory_skips_node_modules(tmp_path: Path):
    d = tmp_path / "dots"
    dots = build_dotfiles(d)
    p = scan(tmp_path, str(d), "--json", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert keyset(out["findings"]) == planted_set(dots)
    assert not any("node_modules" in f for f in out["scanned"])


def test_scan_a_home_directory_finds_the_client_configs(fx: Fixtures):
    """`keyward scan ~` walks the home and finds the same user configs."""
    p = scan(fx, str(fx.home), "--json")
    out = json.loads(p.stdout)
    user = {x for x in planted_set(fx) if x[0].startswith(str(fx.home))}
    assert keyset(out["findings"]) == user


def test_scan_skips_real_looking_values_silently(tmp_path: Path):
    """Issue 12, item 8: a database password on an `example.com` host was
    passed over without a word. It is still not a finding (exit 0), but the
    summary counts it with the reason, `--show-skipped` lists it masked,
    and `--json` carries it under "skipped"; the password is printed by
    none of them."""
    pw = "Wq7rT2mZp9LkVb4x"
    cfg = tmp_path / "mcp.json"
    cfg.write_text(json.dumps({"mcpServers": {"postgres": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-postgres",
                 f"postgresql://app:{pw}@db.example.com:5432/app"],
        "env": {"API_KEY": "${API_KEY}", "GITHUB_TOKEN": "keyward://github.token"},
    }}}))
    p = scan(tmp_path, str(cfg))
    assert p.returncode == 0, p.stdout + p.stderr
    assert ("1 value skipped as a placeholder or example (1 contains 'example'); "
            "--show-skipped lists them") in p.stdout
    assert "mcpServers.postgres.args[2]" not in p.stdout
    listed = scan(tmp_path, "--show-skipped", str(cfg))
    assert listed.returncode == 0
    assert "mcpServers.postgres.args[2]" in listed.stdout
    assert "Database URL with a password" in listed.stdout
    assert "skipped: contains 'example'" in listed.stdout
    out = scan(tmp_path, "--json", str(cfg))
    data = json.loads(out.stdout)
    assert data["findings"] == []
    assert [(s["path"], s["rule"], s["reason"]) for s in data["skipped"]] == [
        ("mcpServers.postgres.args[2]", "database-url-password", "contains 'example'")]
    for run in (p, listed, out):
        assert pw[:8] not in run.stdout + run.stderr
        assert pw[-8:] not in run.stdout + run.stderr
