"""A real HTTP/1.1 server on 127.0.0.1 for the integration tests.

It reflects what it receives (method, raw path, query, headers, body) so a
test can see exactly what keyward sent, and it has endpoints that misbehave
the way SECURITY.md says upstreams do: echoing credentials, redirecting to
another origin, splitting a secret across chunks, compressing, stalling.
Every request is also recorded in `server.requests`.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Upstream(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, leak: str = ""):
        super().__init__(("127.0.0.1", 0), Handler)
        self.leak = leak  # a value some endpoints emit as if they leaked it
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "Upstream":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _record(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        rec = {
            "method": self.command,
            "raw_path": self.path,
            "path": split.path,
            "query": {k: v for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            "raw_query": split.query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        with self.server.lock:
            self.server.requests.append(rec)
        return rec

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        rec = self._record()
        path = rec["path"]
        q = rec["query"]
        leak = self.server.leak.encode()
        if path.endswith("/redirect"):
            to = q.get("to", ["http://127.0.0.1:9/"])[0]
            self._send(302, b"moved", "text/plain", [("Location", to)])
        elif path.endswith("/split"):
            # The leaked value in 1-byte chunks, flushed one by one.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in [b"before "] + [leak[i : i + 1] for i in range(len(leak))] + [b" after"]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.001)
            self.wfile.write(b"0\r\n\r\n")
        elif path.endswith("/big"):
            n = int(q.get("n", ["1000000"])[0])
            body = b"x" * n + leak + b"y" * 100
            self._send(200, body, "text/plain")
        elif path.endswith("/binary"):
            self._send(200, b"\xff\xfe\x00" + leak + b"\x80", "application/octet-stream")
        elif path.endswith("/encoded"):
            body = json.dumps(
                {
                    "b64": base64.b64encode(leak).decode(),
                    "b64url": base64.urlsafe_b64encode(leak).decode().rstrip("="),
                    "hex": leak.hex(),
                    "HEX": leak.hex().upper(),
                    "pct": "".join(f"%{b:02X}" for b in leak),
                    "embedded_b64": base64.b64encode(b"xy" + leak + b"z").decode(),
                }
            ).encode()
            self._send(200, body)
        elif path.endswith("/gzip"):
            self._send(200, gzip.compress(leak), "text/plain", [("Content-Encoding", "gzip")])
        elif path.endswith("/slow"):
            time.sleep(float(q.get("s", ["5"])[0]))
            self._send(200, b"late", "text/plain")
        elif path.endswith("/cookie"):
            self._send(200, b"{}", extra=[("Set-Cookie", "session=abc"), ("X-Leak", self.server.leak)])
        elif path.endswith("/header-name-leak"):
            self._send(200, b"{}", extra=[(f"X-Token-{self.server.leak}", "1"), ("X-Fine", "yes")])
        elif path.endswith("/hexdump") or path.endswith("/b64dump"):
            head = f"{rec['method']} {rec['raw_path']} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in rec["headers"])
            raw = head.encode()
            dump = raw.hex() if path.endswith("/hexdump") else base64.b64encode(raw).decode()
            self._send(200, dump.encode(), "text/plain")
        elif path.endswith("/php-json"):
            # PHP's json_encode escapes '/' as '\/'.
            self._send(200, json.dumps(dict(rec["headers"])).replace("/", "\\/").encode())
        elif path.endswith("/status-leak"):
            self._send(500, b"error: upstream rejected token " + leak, "text/plain")
        else:
            self._send(200, json.dumps(rec).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


if __name__ == "__main__":  # handy by hand: python3 tests/upstream.py
    with Upstream() as s:
        print(s.origin, flush=True)
        while True:
            time.sleep(3600)
