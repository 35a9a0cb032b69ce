"""Runs the commands the docs show, so that the docs cannot drift from what
keyward does. Used by tests/test_docs.py; the format is described there.

A page is a Markdown file (README.md, docs/**/*.md). Its fenced blocks
tagged `sh`, `bash`, `shell` or `console` are command blocks; they run in
page order in one sandbox per page:

- a fresh HOME (keyward's default config and data directories are inside
  it), the project directory as the working directory, no OS credential
  store, `KEYWARD_PASSPHRASE` set (it stands for the human typing it), the
  keyward under test and the npm peers on PATH, and canary values in the
  variables the docs pipe in (`$STRIPE_KEY`, `$GITHUB_TOKEN`, ...);
- `tests/docs/<slug>/setup.sh` first, when there is one (slug: the page's
  path with `/` as `__`, without `.md`), with `$DOCS_FIXTURES` pointing at
  that directory; else `keyward init` (a page that shows it has a setup).
  A setup may start servers the page needs (OpenBao, a session bus with
  gnome-keyring): it appends their pids to `$DOCS_PIDS` (killed at the end
  of the page) and `KEY=VALUE` lines (or `-KEY` to unset one) to `$DOCS_ENV`
  for the page's commands.

In an `sh` block every command (a line, or lines joined by a trailing `\\`)
runs in bash with `pipefail` and must exit 0. In a `console` block, `$ `
starts a command and the lines up to the next one are its expected output
(stdout then stderr): `...` on a line of its own stands for any lines,
`[..]` for any text within a line, and a last line `(exit status N)` says
the command exits N instead of 0.

`keyward serve --http ...` runs in the background until the end of the
page (the next command waits until it answers). An HTML comment
`<!-- docs: run by tests/FILE.py::TEST -->` right before a block says a
named test runs it instead (the install line, the test command itself);
that test's source must contain every command of the block verbatim.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "docs"
RUN_TAGS = {"sh", "bash", "shell", "console"}
PASSPHRASE = "kw_canary_pw_docs_9vQ2mL4xT7"
# The values the docs pipe into `keyward secret set`: canaries, grepped for.
CANARY_VARS = {
    "STRIPE_KEY": "sk_live_51KwCanaryDocs0000000000000000000000000000000Zq",
    "GITHUB_TOKEN": "ghp_kwCanaryDocs00000000000000000000000Zq",
    "TOKEN": "kw_canary_docs_token_7Hq2Zx9LmR4tA8",
    "NEW": "kw_canary_docs_new_3Fv8Kp1NcW6yB2",
}
CANARIES = [PASSPHRASE, *CANARY_VARS.values()]
# The secrets a page's setup plants in client configs are named like this
# (`kw_canary_…`, `ghp_kwCanary…`): none may ever be printed.
PLANTED = re.compile(r"(?:kw_canary_|kwCanary)\w{6,}")


@dataclass
class Command:
    text: str
    line: int
    expected: list[str] | None = None  # console blocks only
    status: int = 0

    @property
    def bare(self) -> str:
        """The command without a trailing `  # comment`."""
        return re.sub(r"\s{2,}#.*$", "", self.text, flags=re.M)


@dataclass
class Block:
    tag: str
    line: int
    commands: list[Command]
    run_by: str | None = None


@dataclass
class Page:
    path: Path
    blocks: list[Block] = field(default_factory=list)

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(ROOT))

    @property
    def slug(self) -> str:
        return self.rel.removesuffix(".md").replace("/", "__")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


RUN_BY = re.compile(r"<!--\s*docs:\s*run by\s+(\S+)\s*-->")
FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)")
EXIT = re.compile(r"^\(exit status (\d+)\)$")


def parse(path: Path) -> Page:
    page = Page(path)
    lines = path.read_text().splitlines()
    i = 0
    run_by = None
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            rb = RUN_BY.search(lines[i])
            if rb:
                run_by = rb.group(1)
            elif lines[i].strip():
                run_by = None
            i += 1
            continue
        indent, fence, tag = m.group(1), m.group(2), m.group(3).lower()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[start:j]]
        if tag in RUN_TAGS:
            cmds = console(body, start + 1) if tag == "console" else script(body, start + 1)
            page.blocks.append(Block(tag, start, cmds, run_by))
        run_by = None
        i = j + 1
    return page


def script(body: list[str], first: int) -> list[Command]:
    cmds: list[Command] = []
    cur: list[str] = []
    at = first
    for n, line in enumerate(body):
        if not cur:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            at = first + n
        cur.append(line)
        if not line.rstrip().endswith("\\"):
            cmds.append(Command("\n".join(cur), at))
            cur = []
    if cur:
        cmds.append(Command("\n".join(cur), at))
    return cmds


def console(body: list[str], first: int) -> list[Command]:
    cmds: list[Command] = []
    n = 0
    while n < len(body):
        line = body[n]
        if not line.startswith("$ "):
            if line.strip():
                raise ValueError(f"line {first + n}: output before any `$ ` command")
            n += 1
            continue
        at = first + n
        cur = [line[2:]]
        while cur[-1].rstrip().endswith("\\") and n + 1 < len(body):
            n += 1
            cur.append(body[n])
        n += 1
        out: list[str] = []
        while n < len(body) and not body[n].startswith("$ "):
            out.append(body[n])
            n += 1
        while out and not out[-1].strip():
            out.pop()
        status = 0
        if out and (m := EXIT.match(out[-1].strip())):
            status = int(m.group(1))
            out.pop()
        cmds.append(Command("\n".join(cur), at, out, status))
    return cmds


def matches(expected: list[str], actual: list[str]) -> bool:
    """trycmd's elisions: `...` any lines, `[..]` any text in a line."""

    def line_ok(e: str, a: str) -> bool:
        parts = [re.escape(p) for p in e.rstrip().split("[..]")]
        return re.fullmatch(".*".join(parts), a.rstrip()) is not None

    def go(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == "...":
            return any(go(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_ok(expected[i], actual[j]) and go(i + 1, j + 1)

    return go(0, 0)


class Sandbox:
    def __init__(self, root: Path, page: Page, keyward: str):
        self.root = root
        self.page = page
        self.home = root / "home"
        self.project = self.home / "project"
        self.project.mkdir(parents=True)
        bindir = root / "bin"
        bindir.mkdir()
        # `keyward` as the docs type it: the binary under test.
        (bindir / "keyward").symlink_to(keyward)
        node_bin = ROOT / "tests" / "node" / "node_modules" / ".bin"
        self.env = {
            "PATH": os.pathsep.join([str(bindir), str(node_bin), os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(self.home),
            "USER": os.environ.get("USER", "docs"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "NO_COLOR": "1",
            # npx and npm never fetch: every npm peer is in tests/node.
            "npm_config_offline": "true",
            "KEYWARD_NO_KEYCHAIN": "1",
            "KEYWARD_PASSPHRASE": PASSPHRASE,
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
            # Claude Code (a docs peer) must not reach the internet.
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            **CANARY_VARS,
        }
        self.background: list[subprocess.Popen] = []
        self.pids = root / "docs.pids"
        self.transcript: list[str] = []

    def where(self, cmd: Command) -> str:
        return f"{self.page.rel}:{cmd.line}: `{cmd.text}`"

    def setup(self) -> None:
        fixture = FIXTURES / self.page.slug
        script = fixture / "setup.sh"
        argv = ["bash", "-euo", "pipefail", str(script)] if script.exists() else ["keyward", "init"]
        env_file, self.pids = self.root / "docs.env", self.root / "docs.pids"
        p = subprocess.run(
            argv,
            cwd=self.project,
            env=dict(self.env, DOCS_FIXTURES=str(fixture), DOCS_ENV=str(env_file), DOCS_PIDS=str(self.pids)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, f"{' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}"
        if env_file.exists():
            for line in env_file.read_text().splitlines():
                if line.startswith("-"):
                    self.env.pop(line[1:], None)
                elif "=" in line:
                    k, _, v = line.partition("=")
                    self.env[k] = v

    def run(self, cmd: Command) -> None:
        if re.match(r"keyward serve --http\b", cmd.text):
            self.start(cmd)
            return
        p = subprocess.run(
            ["bash", "-o", "pipefail", "-c", cmd.text],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        out = p.stdout + p.stderr
        self.transcript.append(out)
        if cmd.expected is None:
            assert p.returncode == cmd.status, (
                f"{self.where(cmd)} exited {p.returncode}, not {cmd.status}:\n{out}"
            )
            return
        actual = out.splitlines()
        while actual and not actual[-1].strip():
            actual.pop()
        assert p.returncode == cmd.status and matches(cmd.expected, actual), (
            f"{self.where(cmd)}: the page shows (exit {cmd.status}):\n"
            + "\n".join(cmd.expected)
            + f"\n--- but it printed (exit {p.returncode}):\n"
            + out
        )

    def start(self, cmd: Command) -> None:
        log = open(self.root / "serve-http.log", "w")
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + cmd.text],
            cwd=self.project,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.background.append(proc)
        run_file = self.home / ".local" / "share" / "keyward" / "run" / "http.json"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"{self.where(cmd)} exited {proc.returncode}:\n"
                    + (self.root / "serve-http.log").read_text()
                )
            if run_file.exists():
                try:
                    json.loads(run_file.read_text())
                    return
                except ValueError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"{self.where(cmd)} did not answer within 30 s")

    def stop(self) -> None:
        pids = self.pids.read_text().split() if self.pids.exists() else []
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        log = self.root / "serve-http.log"
        if log.exists():
            self.transcript.append(log.read_text())

    def leaked(self) -> list[str]:
        """Canaries in anything the page's commands printed, or in a file
        keyward wrote (keyward.toml, the audit log, client configs)."""
        text = "\n".join(self.transcript)
        found = [c for c in CANARIES if c in text]
        found += [f"printed: {m}" for m in PLANTED.findall(text)]
        for f in self.home.rglob("*"):
            if f.is_file() and not f.is_symlink() and f.stat().st_size < 4 << 20:
                body = f.read_bytes()
                found += [f"{c} in {f}" for c in CANARY_VARS.values() if c.encode() in body]
        return found


def run_page(page: Page, root: Path, keyward: str) -> list[str]:
    """Runs every command block of `page` not run by another test; returns
    the canaries that leaked: any printed, or one piped into keyward found
    in a file."""
    box = Sandbox(root, page, keyward)
    box.setup()
    try:
        for block in page.blocks:
            if block.run_by:
                continue
            for cmd in block.commands:
                box.run(cmd)
    finally:
        box.stop()
    return box.leaked()


def clean(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
