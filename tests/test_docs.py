"""Every command the README and docs/ show is run here, against the real
binary, and its output compared with what the page shows
(tests/docs_runner.py describes the format). A page that shows a command
keyward no longer accepts, or output it no longer prints, fails here.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

import docs_runner as dr
from conftest import KEYWARD

PAGES = [dr.parse(p) for p in dr.pages()]
RUNNABLE = [p for p in PAGES if any(b.commands and not b.run_by for b in p.blocks)]


@pytest.mark.parametrize("page", RUNNABLE, ids=[p.rel for p in RUNNABLE])
def test_the_commands_a_page_shows_work_as_shown(page: dr.Page, tmp_path: Path):
    leaked = dr.run_page(page, tmp_path, KEYWARD)
    assert not leaked, f"{page.rel}: secrets leaked: {leaked}"


def test_every_page_is_reachable_from_the_readme_or_the_docs_index():
    linked: set[Path] = set()
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.path.read_text()):
            linked.add((page.path.parent / target).resolve())
    orphans = [p.rel for p in PAGES if p.path.name != "README.md" or p.path.parent != dr.ROOT]
    orphans = [r for r in orphans if (dr.ROOT / r).resolve() not in linked]
    assert not orphans, f"pages no other page links to: {orphans}"


def test_every_link_between_pages_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)", page.path.read_text()):
            if not (page.path.parent / target).exists():
                broken.append(f"{page.rel} -> {target}")
    assert not broken, broken


def test_a_block_run_by_another_test_is_in_that_test_verbatim():
    """`<!-- docs: run by tests/F.py::T -->` must name a test that exists and
    holds every command of the block, so the block cannot change alone."""
    seen = 0
    for page in PAGES:
        for block in page.blocks:
            if not block.run_by:
                continue
            seen += 1
            file, _, name = block.run_by.partition("::")
            source = (dr.ROOT / file).read_text()
            tree = ast.parse(source)
            fns = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
            assert fns, f"{page.rel}:{block.line}: {block.run_by} does not exist"
            body = ast.get_source_segment(source, fns[0]) or ""
            for cmd in block.commands:
                assert cmd.bare in body, f"{page.rel}:{cmd.line}: `{cmd.bare}` is not in {block.run_by}"
    assert seen, "the README's set-up commands are run by named tests"


def test_the_configuration_reference_is_one_valid_keyward_toml(tmp_path: Path):
    """The TOML blocks of docs/configuration.md, put together, are a
    keyward.toml that loads: a key the reference shows and keyward no longer
    takes (or takes differently) fails here."""
    text = (dr.ROOT / "docs" / "configuration.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    page = tmp_path / "p.md"
    page.write_text("```sh\ncat \"$DOCS_TOML\" > ~/.config/keyward/keyward.toml\nkeyward config diff || true\n```\n")
    (tmp_path / "reference.toml").write_text("\n".join(blocks))
    parsed = dr.parse(page)
    parsed.path = dr.ROOT / "docs" / "configuration-reference.md"  # a slug without a fixture
    box = dr.Sandbox(tmp_path / "box", parsed, KEYWARD)
    box.env["DOCS_TOML"] = str(tmp_path / "reference.toml")
    box.setup()
    for cmd in box.page.blocks[0].commands:
        box.run(cmd)
    printed = "\n".join(box.transcript)
    assert "services.stripe" in (box.home / ".config" / "keyward" / "keyward.toml").read_text()
    assert "is not valid" not in printed and "settings that change" in printed, printed


# === the blocks other tests run ===

def test_the_install_line(tmp_path: Path):
    """The README's install line, exactly, into a throw-away root (the
    release build is shared with bench/ through CARGO_TARGET_DIR): the
    demo's self-test passes, then init sets up the (sandboxed) home."""
    install = "cargo install --locked --path crates/cli && keyward demo && keyward init"
    home = tmp_path / "home"
    home.mkdir()
    env = dict(
        os.environ,
        CARGO_INSTALL_ROOT=str(tmp_path / "root"),
        CARGO_TARGET_DIR=str(dr.ROOT / "target"),
        PATH=f"{tmp_path / 'root' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        HOME=str(home),
        # cargo and rustup as installed for the user running the tests.
        CARGO_HOME=os.environ.get("CARGO_HOME", str(Path.home() / ".cargo")),
        RUSTUP_HOME=os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
        KEYWARD_NO_KEYCHAIN="1",
        KEYWARD_PASSPHRASE=dr.PASSPHRASE,
        DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent",
    )
    env.pop("KEYWARD_HOME", None)
    p = subprocess.run(
        ["bash", "-o", "pipefail", "-c", install],
        cwd=dr.ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # no terminal: the demo does not ask
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "every step behaved as expected" in p.stdout, p.stdout
    assert (home / ".config" / "keyward" / "keyward.toml").exists()
    assert (home / ".local" / "share" / "keyward" / "vault.kw").exists()
    assert dr.PASSPHRASE not in p.stdout + p.stderr


def test_the_test_command():
    """`.ci/run` runs the README's test command; this is that command
    (running it here would run this test again)."""
    command = "./scripts/test"
    ci = (dr.ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^\s*(exec\s+)?{re.escape(command)}\s*$", ci, re.M), ci


# === the runner itself: each check can fail ===


def test_matching_elides_lines_and_text_within_a_line():
    assert dr.matches(["a [..] c", "...", "z"], ["a b c", "x", "y", "z"])
    assert dr.matches(["..."], [])
    assert not dr.matches(["a [..] c"], ["a b d"])
    assert not dr.matches(["a", "b"], ["a"])
    assert not dr.matches(["a"], ["a", "extra"])


def test_parsing_console_and_sh_blocks(tmp_path: Path):
    page = tmp_path / "p.md"
    page.write_text(
        "text\n\n```sh\n# comment\nkeyward a \\\n  --b   # note\nkeyward c\n```\n\n"
        "<!-- docs: run by tests/x.py::t -->\n```console\n$ keyward d\nout\n(exit status 1)\n$ keyward e\n```\n"
        "```toml\nnot = 'run'\n```\n"
    )
    p = dr.parse(page)
    assert [b.tag for b in p.blocks] == ["sh", "console"]
    assert [c.text for c in p.blocks[0].commands] == ["keyward a \\\n  --b   # note", "keyward c"]
    assert p.blocks[0].run_by is None and p.blocks[1].run_by == "tests/x.py::t"
    d, e = p.blocks[1].commands
    assert (d.text, d.expected, d.status) == ("keyward d", ["out"], 1)
    assert (e.expected, e.status) == ([], 0)


def test_a_page_whose_output_differs_fails(tmp_path: Path):
    page = tmp_path / "docs" / "p.md"
    page.parent.mkdir()
    page.write_text("```console\n$ keyward --version\nkeyward 0.0.0-not-this\n```\n")
    parsed = dr.parse(page)
    parsed.path = dr.ROOT / "docs" / "p.md"  # a slug without a fixture
    with pytest.raises(AssertionError, match="the page shows"):
        dr.run_page(parsed, tmp_path / "box", KEYWARD)


def test_a_printed_canary_is_caught(tmp_path: Path):
    page = tmp_path / "p.md"
    page.write_text('```sh\necho "$STRIPE_KEY"\n```\n')
    parsed = dr.parse(page)
    parsed.path = dr.ROOT / "docs" / "p.md"
    assert dr.CANARY_VARS["STRIPE_KEY"] in dr.run_page(parsed, tmp_path / "box", KEYWARD)
