"""An IMDSv2-only metadata service on 127.0.0.1, for running scripts and fixed code.

It behaves like an instance with ``http_tokens = required``: ``PUT
/latest/api/token`` with a valid TTL header returns a token; any other request
needs ``X-aws-ec2-metadata-token`` with a live token, else 401. Protocol
mistakes get the status IMDS gives them (403/404 wrong token path, 405 GET on
the token path, 400 bad TTL, 403 X-Forwarded-For on the PUT).

It binds only to 127.0.0.1 on a random port; tests substitute its address for
the metadata host in the code they run. Nothing here ever contacts a real
metadata address.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METADATA = {
    "/latest/meta-data/instance-id": "i-0123456789abcdef0",
    "/latest/meta-data/ami-id": "ami-0abcdef1234567890",
    "/latest/meta-data/hostname": "ip-10-0-0-12.ec2.internal",
    "/latest/meta-data/local-hostname": "ip-10-0-0-12.ec2.internal",
    "/latest/meta-data/local-ipv4": "10.0.0.12",
    "/latest/meta-data/public-ipv4": "203.0.113.7",
    "/latest/meta-data/instance-type": "t3.micro",
    "/latest/meta-data/placement/region": "eu-west-1",
    "/latest/meta-data/placement/availability-zone": "eu-west-1a",
    "/latest/meta-data/mac": "0a:1b:2c:3d:4e:5f",
    "/latest/meta-data/iam/security-credentials/": "app-role",
    "/latest/meta-data/iam/security-credentials/app-role":
        '{"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"secret","Token":"session","Expiration":"2030-01-01T00:00:00Z"}',
    "/latest/meta-data/iam/info": '{"Code":"Success","InstanceProfileArn":"arn:aws:iam::123456789012:instance-profile/app"}',
    "/latest/dynamic/instance-identity/document":
        '{"accountId":"123456789012","region":"eu-west-1","instanceId":"i-0123456789abcdef0","instanceType":"t3.micro"}',
    "/latest/user-data": "#!/bin/bash\necho hello\n",
    "/latest/meta-data/tags/instance/Name": "web-1",
}
METADATA["/latest/meta-data/"] = "\n".join(sorted({p.split("/")[3] for p in METADATA if p.startswith("/latest/meta-data/") and len(p.split("/")) > 3 and p.split("/")[3]}))


class _Handler(BaseHTTPRequestHandler):
    server: "Emulator"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _record(self) -> None:
        self.server.log.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))

    def do_PUT(self):
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path != "/latest/api/token":
            return self._send(404 if "/api/token" not in path else 403, "Forbidden")
        if self.headers.get("X-Forwarded-For"):
            return self._send(403, "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            seconds = int(ttl or "")
        except ValueError:
            return self._send(400, "Bad Request")
        if not 1 <= seconds <= 21600:
            return self._send(400, "Bad Request")
        token = secrets.token_urlsafe(32)
        self.server.tokens[token] = time.monotonic() + seconds
        self._send(200, token)

    def do_GET(self):
        self._record()
        path = self.path.split("?", 1)[0]
        if path.startswith("/latest/api/token"):
            return self._send(405, "Method Not Allowed")
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is None:
            self.server.tokenless += 1
        expiry = self.server.tokens.get(token or "")
        tokenless_allowed = not self.server.tokens_required and token is None
        if not tokenless_allowed and (expiry is None or expiry < time.monotonic()):
            self.server.unauthorized += 1
            return self._send(401, "Unauthorized")
        if path in METADATA:
            return self._send(200, METADATA[path])
        self._send(404, "Not Found")

    do_HEAD = do_GET

    def do_POST(self):
        self._record()
        self._send(405, "Method Not Allowed")


class Emulator(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tokens: dict[str, float] = {}
        self.log: list[tuple[str, str, dict]] = []
        self.unauthorized = 0
        self.tokenless = 0  # GET/HEAD requests that carried no token header at all
        # True: http_tokens = required (IMDSv2 only). False: optional, as before enforcement.
        self.tokens_required = True
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address):
        pass  # a client killed at its deadline resets its connection; that is not the server's error

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> "Emulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def reset(self, tokens_required: bool = True) -> None:
        self.tokens_required = tokens_required
        self.tokens.clear()
        self.log.clear()
        self.unauthorized = 0
        self.tokenless = 0

    @property
    def puts(self) -> int:
        return sum(1 for method, _, _ in self.log if method == "PUT")


class Refusing:
    """A loopback port where nothing listens: every connection is refused, as off EC2.

    The socket is bound but never listens, so the port stays ours (no other
    test can take it) and the kernel answers each SYN with a reset.
    """

    def __init__(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        self._socket.close()


class Blackhole:
    """A loopback port that accepts every connection and never answers: a black-holed route.

    Accepted sockets are held open (never read, never closed) until ``reset``,
    so a client without a time limit waits for ever, as it would on EC2 with
    the route to IMDS dropped.
    """

    def __init__(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> "Blackhole":
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with self._lock:
                self._held.append(connection)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._held)

    def reset(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()

    def stop(self) -> None:
        self.reset()
        self._socket.close()


METADATA_HOSTS = ("169.254.169.254", "[fd00:ec2::254]", "instance-data")


def point_at(text: str, emulator) -> str:
    """Rewrite every metadata host spelling in ``text`` to a loopback address (``emulator.address``)."""
    for host in METADATA_HOSTS:
        text = text.replace(host, emulator.address)
    return text
