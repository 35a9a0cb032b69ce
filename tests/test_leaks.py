"""SECURITY.md item 8: secrets never reach keyward's own channels. The guard
used here is itself tested against a planted leak."""

from __future__ import annotations

import pytest

from conftest import canary, mcp_call, open_service, text_of


def find_leaks(haystacks: dict[str, str], needles: list[str]) -> list[str]:
    return [f"{needle[:14]}… in {where}" for where, text in haystacks.items() for needle in needles if needle in text]


def assert_no_leak(haystacks: dict[str, str], needles: list[str]) -> None:
    leaks = find_leaks(haystacks, needles)
    assert not leaks, f"leaked: {leaks}"


def test_the_leak_guard_catches_a_planted_leak():
    secret = canary("planted")
    with pytest.raises(AssertionError):
        assert_no_leak({"stdout": f"ok {secret} ok"}, [secret])
    assert_no_leak({"stdout": "ok [REDACTED] ok"}, [secret])


def test_no_secret_in_any_output_file_log_or_answer(home, upstream):
    token = canary("tok")
    other = canary("vaultonly")
    passphrase = canary("pass")
    upstream.leak = token
    home.set_secret("tok", token)
    home.set_secret("other", other)
    home.env["KEYWARD_LOG"] = "trace"  # the most talkative logging must still leak nothing
    home.env["KEYWARD_PASSPHRASE"] = passphrase
    home.write_config(open_service(upstream.origin, secret="tok"))
    outputs = []

    async def go(client):
        for path in ["/echo", "/split", "/encoded", "/status-leak", "/cookie", "/nope?x=1", f"/x?q={other}"]:
            r = await client.call_tool("http_request", {"service": "s", "method": "GET", "path": path})
            outputs.append(text_of(r) + str(r.structured_content))
        r = await client.call_tool("http_request", {"service": "s", "method": "GET", "path": "/echo", "headers": {"X-Bad": "a\r\nb"}})
        outputs.append(text_of(r))

    mcp_call(home, go)
    # The upstream really received the token (so the test is not vacuous)...
    assert any(token in str(r["headers"]) for r in upstream.requests)
    # ...and echoed it back in several forms, none of which reached the agent.
    assert_no_leak(
        {
            "agent": "\n".join(outputs),
            "files": home.all_files_text(),
            "cli": home.run("audit").stdout + home.run("secret", "list").stdout + home.run("service", "list").stdout,
        },
        [token, other, passphrase],
    )
