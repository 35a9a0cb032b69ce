"""Fixtures: the real keyward binary in a throw-away KEYWARD_HOME, a real
HTTP upstream, and the official Python MCP SDK as the client."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from upstream import Upstream  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEYWARD = os.environ.get("KEYWARD_BIN") or str(ROOT / "target" / "debug" / "keyward")
# The vault passphrase of every `home` fixture.
PASSPHRASE = "correct horse battery staple"


def canary(tag: str = "") -> str:
    """A recognisable fake secret: one grep finds it anywhere it leaked."""
    return f"kw_canary_{tag}{secrets.token_hex(12)}"


class Home:
    """One KEYWARD_HOME with a vault unlocked by a key file (no KDF per run)."""

    def __init__(self, root: Path):
        self.dir = root / "home"
        self.key_file = root / "vault.key"
        self.stderr_log = root / "serve-stderr.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "KEYWARD_HOME": str(self.dir),
            "KEYWARD_NO_KEYCHAIN": "1",
            # A session bus that does not exist: never touch a real keychain.
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
        }

    def run(self, *args: str, input: str | None = None, env: dict | None = None, check=True):
        e = dict(self.env, **(env or {}))
        p = subprocess.run(
            [KEYWARD, *args], input=input, capture_output=True, text=True, env=e, timeout=60
        )
        if check and p.returncode != 0:
            raise AssertionError(f"keyward {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def init(self) -> None:
        self.run(
            "init",
            "--write-key-file",
            str(self.key_file),
            env={"KEYWARD_PASSPHRASE": PASSPHRASE},
        )
        self.env["KEYWARD_VAULT_KEY_FILE"] = str(self.key_file)

    def set_secret(self, name: str, value: str) -> None:
        self.run("secret", "set", name, input=value + "\n")

    def write_config(self, text: str, *, approve: bool = True) -> None:
        """Writes keyward.toml and, unless approve=False, approves it as the
        human would (`keyward serve` runs only an approved config)."""
        (self.dir / "keyward.toml").write_text(text)
        if approve:
            self.approve()

    def approve(self, check: bool = True):
        """`keyward config approve` with the fixture's passphrase."""
        return self.run("config", "approve", env={"KEYWARD_PASSPHRASE": PASSPHRASE}, check=check)

    def audit(self, *, config: bool = False) -> list[dict]:
        """The audit records; those of config approvals (kind "config") only
        with config=True."""
        p = self.dir / "audit.jsonl"
        if not p.exists():
            return []
        records = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
        return [r for r in records if config or r.get("kind") != "config"]

    def all_files_text(self) -> str:
        """Every byte keyward wrote under its home, for leak greps."""
        out = []
        for f in sorted(self.dir.rglob("*")):
            if f.is_file():
                out.append(f.read_bytes().decode("latin-1"))
        if self.stderr_log.exists():
            out.append(self.stderr_log.read_text("latin-1"))
        return "\n".join(out)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    if not Path(KEYWARD).exists():
        pytest.fail(f"keyward binary not found at {KEYWARD}: run `cargo build` first")
    h = Home(tmp_path)
    h.init()
    return h


@pytest.fixture
def upstream():
    with Upstream() as s:
        yield s


def mcp_call(home: Home, calls, *, mode: str = "legacy", client_name: str = "pytest-agent", **client_kwargs):
    """Starts `keyward serve` under the official MCP SDK client and runs
    `calls(client)` (an async function). Returns its result."""
    from mcp import Client, StdioServerParameters
    from mcp.types import Implementation

    params = StdioServerParameters(command=KEYWARD, args=["serve"], env=home.env)

    async def main():
        from mcp.client.stdio import stdio_client

        with open(home.stderr_log, "a") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog),
                mode=mode,
                client_info=Implementation(name=client_name, version="1.0"),
                read_timeout_seconds=30,
                **client_kwargs,
            ) as client:
                return await calls(client)

    return anyio.run(main)


def open_service(origin: str, *, secret: str | None = None, name: str = "s", methods: list[str] | None = None) -> str:
    """keyward.toml for one service whose rule allows every path (and the
    given methods, or all), with a bearer credential from the vault."""
    auth = f'auth = {{ type = "bearer", secret = "{secret}" }}\n' if secret else ""
    meth = f"methods = {methods!r}\n".replace("'", '"') if methods else ""
    return (
        f'[services.{name}]\nbase_url = "{origin}"\n{auth}'
        f'[[services.{name}.rules]]\naction = "allow"\n{meth}paths = ["/**"]\n'
    )


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def which(cmd: str) -> str | None:
    return shutil.which(cmd)


def fake_listener(path: Path, reply: dict):
    """A listener any same-user process can open in run/: it answers every
    request with `reply`. Returns (socket, requests received)."""
    got: list[bytes] = []
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(8)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            got.append(c.recv(65536))
            try:
                c.sendall((json.dumps(reply) + "\n").encode())
            except OSError:
                pass  # the client hung up without asking: as it should
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, got
