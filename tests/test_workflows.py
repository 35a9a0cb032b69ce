"""Workflows (issue 5): one tool for the agent, steps that call HTTP
services, upstream MCP tools and commands through the same pipeline as a
direct call, templated from the inputs and earlier results, stopping at the
first denied or failed step — against the real binary, the real HTTP
upstream, server-everything, and the official Python MCP SDK."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import types

from conftest import PASSPHRASE, canary, mcp_call, text_of
from test_approvals import Held, wait_pending
from test_upstreams import EVERYTHING
from upstream import Upstream


def service(origin: str) -> str:
    """A service whose rules allow GET and POST under /incidents and
    /posts, nothing else (DELETE and /admin are denied by default)."""
    return f"""
[approvals]
timeout = "20s"
notify = false

[services.api]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "api_token" }}

[[services.api.rules]]
action = "allow"
methods = ["GET", "POST"]
paths = ["/incidents/**", "/posts/**", "/split"]
"""


TRIAGE = """
[workflows.triage]
description = "Collect an incident's alerts, then post what was seen"
inputs = { incident = { type = "string", description = "incident id" }, urgent = "boolean" }

[[workflows.triage.steps]]
id = "alerts"
call = { service = "api", method = "GET", path = "/incidents/{{ incident }}/alerts", query = { urgent = "{{ urgent }}" } }

[[workflows.triage.steps]]
id = "post"
call = { service = "api", method = "POST", path = "/posts/summary", json = { seen_path = "{{ steps.alerts.json.path }}", seen_query = "{{ steps.alerts.json.query }}", status = "{{ steps.alerts.status }}" } }
"""


@pytest.fixture
def api(home, upstream):
    token = canary("apitoken")
    home.set_secret("api_token", token)
    return token


def requests_to(upstream, prefix: str) -> list[dict]:
    return [r for r in upstream.requests if r["path"].startswith(prefix)]


def run_records(home, run: str) -> list[dict]:
    return [r for r in home.audit() if (r.get("run") or "").split("/")[0] == run]


def test_two_steps_the_second_reads_the_firsts_json(home, upstream, api):
    home.write_config(service(upstream.origin) + TRIAGE)

    async def calls(client):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        r = await client.call_tool("triage", {"incident": "42", "urgent": True})
        return tools, r

    tools, r = mcp_call(home, calls)
    # One tool, its schema from `inputs`, every input required.
    t = tools["triage"]
    assert t.description.startswith("Collect an incident's alerts")
    assert t.input_schema["properties"]["incident"] == {"type": "string", "description": "incident id"}
    assert t.input_schema["properties"]["urgent"] == {"type": "boolean"}
    assert sorted(t.input_schema["required"]) == ["incident", "urgent"]
    assert t.input_schema["additionalProperties"] is False

    assert not r.is_error, text_of(r)
    report = r.structured_content
    assert report["completed"] is True
    assert [s["id"] for s in report["steps"]] == ["alerts", "post"]
    # The upstream saw both calls, the second built from the first's JSON
    # (with its number and object types kept).
    first = requests_to(upstream, "/incidents/")
    posts = requests_to(upstream, "/posts/")
    assert [q["path"] for q in first] == ["/incidents/42/alerts"]
    assert first[0]["query"] == {"urgent": ["true"]}
    assert len(posts) == 1
    sent = json.loads(posts[0]["body"])
    assert sent == {"seen_path": "/incidents/42/alerts", "seen_query": {"urgent": ["true"]}, "status": 200}
    # Both carried the credential keyward injected; the agent never saw it.
    for q in first + posts:
        assert ["authorization", f"Bearer {api}"] in q["headers"]
    assert api not in text_of(r)

    # The audit links the run: one record per step, `RUN/STEP`, and one for
    # the run itself.
    run = report["run"]
    records = run_records(home, run)
    steps = [(x["kind"], x["run"], x["decision"], x.get("path")) for x in records if x["kind"] == "http"]
    assert steps == [
        ("http", f"{run}/alerts", "allow", "/incidents/42/alerts"),
        ("http", f"{run}/post", "allow", "/posts/summary"),
    ]
    whole = [x for x in records if x["kind"] == "workflow"]
    assert len(whole) == 1
    assert whole[0]["run"] == run and whole[0]["decision"] == "allow" and whole[0]["target"] == "triage"
    assert whole[0]["agent"].startswith("pytest-agent")


CLEANUP = """
[workflows.cleanup]
description = "Read an incident, delete it, read it again"
inputs = { incident = "string" }

[[workflows.cleanup.steps]]
id = "read"
call = { service = "api", method = "GET", path = "/incidents/{{ incident }}" }

[[workflows.cleanup.steps]]
id = "delete"
call = { service = "api", method = "DELETE", path = "/incidents/{{ steps.read.json.path | replace('/incidents/', '') }}" }

[[workflows.cleanup.steps]]
id = "after"
call = { service = "api", method = "GET", path = "/incidents/{{ incident }}/after" }
"""


def test_a_step_the_policy_denies_stops_the_run(home, upstream, api):
    home.write_config(service(upstream.origin) + CLEANUP)

    async def calls(client):
        return await client.call_tool("cleanup", {"incident": "7"})

    r = mcp_call(home, calls)
    assert r.is_error
    report = r.structured_content
    assert report["completed"] is False
    assert report["stopped"]["step"] == "delete" and report["stopped"]["decision"] == "deny"
    assert "no rule allows" in report["stopped"]["reason"]
    assert report["not_run"] == ["after"]
    assert "stopped at step `delete`" in text_of(r)
    # The upstream saw the first step only: no DELETE, nothing after it.
    assert [(q["method"], q["path"]) for q in upstream.requests] == [("GET", "/incidents/7")]

    run = report["run"]
    records = run_records(home, run)
    assert [(x["kind"], x["run"], x["decision"]) for x in records] == [
        ("http", f"{run}/read", "allow"),
        ("http", f"{run}/delete", "deny"),
        ("workflow", run, "deny"),
    ]
    assert "stopped at step `delete`" in records[-1]["error"]


def test_hostile_inputs_are_data_and_paths_still_pass_the_router(home, upstream, api):
    home.write_config(
        service(upstream.origin)
        + TRIAGE
        + """
[workflows.relay]
description = "Send a note, then pass on what the upstream answered"
inputs = { note = "string" }

[[workflows.relay.steps]]
id = "first"
call = { service = "api", method = "POST", path = "/posts/first", body = "{{ note }}" }

[[workflows.relay.steps]]
id = "second"
call = { service = "api", method = "POST", path = "/posts/second", json = { relayed = "{{ steps.first.json.body }}", text = "upstream said: {{ steps.first.json.body }}" } }
"""
    )
    note = "{{ 7 * 7 }}{% for x in range(3) %}{{ incident }}{% endfor %}{{ steps }}"

    async def calls(client):
        return (
            await client.call_tool("triage", {"incident": "../../admin", "urgent": False}),
            await client.call_tool("triage", {"incident": "%2e%2e/admin", "urgent": False}),
            await client.call_tool("relay", {"note": note}),
            await client.call_tool("triage", {"incident": "1", "urgent": "yes"}),
            await client.call_tool("triage", {"incident": "1", "urgent": True, "extra": 1}),
        )

    dots, encoded, relay, wrong_type, extra = mcp_call(home, calls)
    # The rendered path went through the same normalisation as a direct
    # call: dot segments (also percent-encoded) are refused, nothing sent.
    for r in (dots, encoded):
        assert r.is_error
        assert r.structured_content["stopped"]["step"] == "alerts"
        assert "dot" in r.structured_content["stopped"]["reason"] or "`.`" in r.structured_content["stopped"]["reason"]
    assert not any("admin" in q["raw_path"] for q in upstream.requests)
    # Template-looking text (from the agent, then back from the upstream)
    # is carried as text and never evaluated.
    assert not relay.is_error, text_of(relay)
    second = requests_to(upstream, "/posts/second")
    assert json.loads(second[0]["body"]) == {"relayed": note, "text": f"upstream said: {note}"}
    assert requests_to(upstream, "/posts/first")[0]["body"] == note
    # Inputs are checked against their declared types; unknown ones refused.
    assert wrong_type.is_error and "must be a boolean" in text_of(wrong_type)
    assert extra.is_error and "`extra` is not an input" in text_of(extra)
    assert len(requests_to(upstream, "/incidents/")) == 0


def test_a_secret_returned_by_a_step_is_scrubbed_before_the_next_step_sees_it(home, api):
    leaked = canary("leak")
    home.set_secret("leaked_value", leaked)
    with Upstream(leak=leaked) as up:
        home.write_config(
            service(up.origin)
            + """
[workflows.forward]
description = "Read a page, forward it"

[[workflows.forward.steps]]
id = "page"
call = { service = "api", method = "GET", path = "/split" }

[[workflows.forward.steps]]
id = "send"
call = { service = "api", method = "POST", path = "/posts/forward", body = "{{ steps.page.text }}", headers = { X-Summary = "{{ steps.page.summary }}" } }
"""
        )

        async def calls(client):
            return await client.call_tool("forward", {})

        r = mcp_call(home, calls)
        assert not r.is_error, text_of(r)
        sent = requests_to(up, "/posts/forward")
        assert len(sent) == 1
        # The second step's arguments were built from the scrubbed answer.
        assert sent[0]["body"] == "before [REDACTED] after"
        assert ["x-summary", "before [REDACTED] after"] in sent[0]["headers"]
        assert leaked not in json.dumps(sent)
        assert leaked not in text_of(r) and leaked not in json.dumps(r.structured_content)
    assert leaked not in home.all_files_text()
    assert api not in home.all_files_text()


def everything_config() -> str:
    return f"""
[servers.ev]
command = "{EVERYTHING}"
args = ["stdio"]
tools = {{ echo = "allow", "get-sum" = "allow" }}
"""


def test_tool_and_command_steps_keep_types_and_pass_results_on(home, upstream, api):
    if not EVERYTHING.exists():
        pytest.fail(f"{EVERYTHING} missing: run `npm ci --prefix tests/node`")
    home.write_config(
        service(upstream.origin)
        + everything_config()
        + """
[commands.show]
program = "echo"
args = ["seen *"]

[workflows.mixed]
description = "Add two numbers upstream, echo the sum, show it"
inputs = { a = "integer", b = "number" }

[[workflows.mixed.steps]]
id = "sum"
call = { tool = "ev__get-sum", args = { a = "{{ a }}", b = "{{ b }}" } }

[[workflows.mixed.steps]]
id = "echo"
call = { tool = "ev__echo", args = { message = "sum: {{ steps.sum.text }}" } }

[[workflows.mixed.steps]]
id = "show"
call = { command = "show", args = ["seen", "{{ steps.echo.text }}"] }

[[workflows.mixed.steps]]
id = "record"
call = { service = "api", method = "POST", path = "/posts/sum", json = { exit = "{{ steps.show.exit_code }}", out = "{{ steps.show.stdout | trim }}" } }
"""
    )

    async def calls(client):
        return await client.call_tool("mixed", {"a": 2, "b": 3.5})

    r = mcp_call(home, calls)
    assert not r.is_error, text_of(r)
    sent = json.loads(requests_to(upstream, "/posts/sum")[0]["body"])
    assert sent["exit"] == 0
    # get-sum got numbers (the whole-expression form keeps the type): 5.5.
    assert "5.5" in sent["out"] and sent["out"].startswith("seen Echo: sum:"), sent
    run = r.structured_content["run"]
    kinds = [(x["kind"], x["run"]) for x in run_records(home, run)]
    assert kinds == [
        ("tool", f"{run}/sum"),
        ("tool", f"{run}/echo"),
        ("command", f"{run}/show"),
        ("http", f"{run}/record"),
        ("workflow", run),
    ]


CONFIRMED = """
[workflows.announce]
description = "Read an incident, then post it after the user confirms"
inputs = { incident = "string" }

[[workflows.announce.steps]]
id = "read"
call = { service = "api", method = "GET", path = "/incidents/{{ incident }}" }

[[workflows.announce.steps]]
id = "post"
call = { service = "api", method = "POST", path = "/posts/announce", body = "incident {{ incident }}: {{ steps.read.status }}" }
confirm = true
"""


def answering(decision, action="accept", seen=None):
    async def cb(context, params):
        if seen is not None:
            seen.append(params)
        if action != "accept":
            return types.ElicitResult(action=action)
        return types.ElicitResult(action="accept", content={"decision": decision})

    return cb


def test_a_step_confirm_asks_even_where_the_rules_allow(home, upstream, api):
    home.write_config(service(upstream.origin) + CONFIRMED)
    seen: list = []

    async def calls(client):
        return await client.call_tool("announce", {"incident": "9"})

    # 2025-11-25: elicitation/create on the calling client.
    r = mcp_call(home, calls, mode="legacy", elicitation_callback=answering("once", seen=seen))
    assert not r.is_error, text_of(r)
    assert len(seen) == 1
    assert "workflow announce, step 2 of 2 `post`" in seen[0].message
    assert "incident 9: 200" in seen[0].message, "the question previews the rendered call"
    assert [q["body"] for q in requests_to(upstream, "/posts/")] == ["incident 9: 200"]
    run = r.structured_content["run"]
    approvals = [x for x in run_records(home, run) if x["kind"] == "approval"]
    assert [(x["decision"], x["run"]) for x in approvals] == [
        ("asked", f"{run}/post"),
        ("allow once", f"{run}/post"),
    ]


def test_on_2026_07_28_a_step_confirm_is_answered_on_the_other_channels(home, upstream, api):
    """The input_required form would have the client retry the whole tool
    call, running the earlier steps again: a workflow's questions go to the
    dashboard and the CLI instead (the client's form is not used)."""
    home.write_config(service(upstream.origin) + CONFIRMED)
    seen: list = []

    async def calls(client):
        return await client.call_tool("announce", {"incident": "9"})

    held = Held(home, calls, mode="auto", elicitation_callback=answering("once", seen=seen))
    [qid] = wait_pending(home)
    out = home.run("approvals").stdout
    assert "workflow announce, step 2 of 2" in out
    assert requests_to(upstream, "/posts/") == [], "nothing is posted before the answer"
    home.run("approve", qid, env={"KEYWARD_PASSPHRASE": PASSPHRASE})
    r = held.join()
    assert not r.is_error, text_of(r)
    assert seen == []
    assert len(requests_to(upstream, "/incidents/")) == 1, "the first step ran once"
    assert [q["body"] for q in requests_to(upstream, "/posts/")] == ["incident 9: 200"]
    # The question and the CLI's answer (written by another task of
    # keyward) both name the step.
    run = r.structured_content["run"]
    approvals = [x for x in run_records(home, run) if x["kind"] == "approval"]
    assert [(x["decision"], x["run"]) for x in approvals] == [("asked", f"{run}/post"), ("allow once", f"{run}/post")]
    assert approvals[1]["channel"] == "cli"


@pytest.mark.parametrize("action", ["decline", "cancel"])
def test_a_declined_step_confirm_stops_the_run_before_the_call(home, upstream, api, action):
    home.write_config(service(upstream.origin) + CONFIRMED)

    async def calls(client):
        return await client.call_tool("announce", {"incident": "9"})

    r = mcp_call(home, calls, elicitation_callback=answering(None, action=action))
    assert r.is_error
    report = r.structured_content
    assert report["stopped"]["step"] == "post" and report["stopped"]["decision"] == "deny"
    assert "declined" in report["stopped"]["reason"]
    assert [s["id"] for s in report["steps"]] == ["read"]
    assert requests_to(upstream, "/posts/") == [], "the confirmed step's call was not made"
    run = report["run"]
    assert [x["decision"] for x in run_records(home, run) if x["kind"] == "workflow"] == ["deny", "deny"]


def test_a_step_confirm_never_turns_a_deny_into_an_allow(home, upstream, api):
    home.write_config(
        service(upstream.origin)
        + """
[workflows.purge]
description = "Delete an incident (the rules deny it)"
inputs = { incident = "string" }

[[workflows.purge.steps]]
id = "delete"
call = { service = "api", method = "DELETE", path = "/incidents/{{ incident }}" }
confirm = true
"""
    )
    seen: list = []

    async def calls(client):
        return await client.call_tool("purge", {"incident": "9"})

    r = mcp_call(home, calls, elicitation_callback=answering("once", seen=seen))
    assert r.is_error and r.structured_content["stopped"]["decision"] == "deny"
    assert seen == [], "nobody is asked about a call the rules deny"
    assert upstream.requests == []


def test_bad_workflows_are_refused_at_load_naming_the_key(home, upstream, api):
    (home.dir / "keyward.toml").write_text(
        service(upstream.origin)
        + """
[workflows.w]
description = "d"
[[workflows.w.steps]]
id = "a"
call = { service = "api", method = "GET", path = "/incidents/{{ steps.b.text }}" }
[[workflows.w.steps]]
id = "b"
call = { service = "api", method = "GET", path = "/incidents/x" }
"""
    )
    p = home.run("doctor", check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "workflows.w.steps[0].call.path" in out and "has not run yet" in out, out


FIXTURES = Path(__file__).parent / "fixtures"


def test_a_tool_step_of_an_unprefixed_server_calls_that_servers_tool(home):
    """A step names `SERVER__TOOL` in keyward.toml whether or not the
    server is mounted with `prefix = false`; the step calls that server's
    tool by its own name (it was routed as the agent-facing name
    `col__plain`, i.e. a tool `col__plain` of the unprefixed server, which
    does not exist)."""
    home.write_config(f"""
[servers.col]
command = "{sys.executable}"
args = ["{FIXTURES / 'colliding_server.py'}"]
prefix = false
tools = {{ plain = "allow", "pin__add" = "deny" }}

[workflows.hello]
description = "Call the unprefixed server's tool"

[[workflows.hello.steps]]
id = "plain"
call = {{ tool = "col__plain" }}
""")

    async def calls(client):
        return await client.call_tool("hello", {})

    r = mcp_call(home, calls)
    assert not r.is_error, text_of(r)
    assert "plain from the colliding server" in text_of(r)
    run = r.structured_content["run"]
    records = run_records(home, run)
    assert [(x["kind"], x["target"], x.get("tool"), x["run"], x["decision"]) for x in records] == [
        ("tool", "col", "plain", f"{run}/plain", "allow"),
        ("workflow", "hello", None, run, "allow"),
    ]
