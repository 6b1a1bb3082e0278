"""A tiny HTTP CONNECT proxy on 127.0.0.1 for the connection-option tests.

Run as ``python connect_proxy.py LOG [USER:PASSWORD]``: it prints its port on the first line of
stdout, then tunnels each ``CONNECT host:port`` to that address (loopback targets only) and appends
one JSON line per CONNECT to LOG: the target and the request's headers. With USER:PASSWORD, a
CONNECT without that ``Proxy-Authorization: Basic`` gets ``407``. ``started()`` runs it as a child
process; its ``stop()`` ends that process by its PID.
"""

import base64
import json
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

IDLE_SECONDS = 30  # a tunnel with no traffic for this long is closed
START_SECONDS = 10


def _headers(reader):
    lines = []
    while True:
        line = reader.readline(65536).decode("latin-1").rstrip("\r\n")
        if not line:
            return lines
        lines.append(line)


def _tunnel(client, upstream):
    sockets = [client, upstream]
    while True:
        ready = select.select(sockets, [], [], IDLE_SECONDS)[0]
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


def _serve(client, log, expected):
    with client:
        reader = client.makefile("rb")
        lines = _headers(reader)
        if not lines:
            return
        method, target = lines[0].split(" ")[:2]
        headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        headers = dict((name.strip().lower(), value.strip()) for name, value in headers.items())
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"method": method, "target": target, "headers": headers}) + "\n")
        host, port = target.rsplit(":", 1) if ":" in target else (target, "0")
        if method != "CONNECT" or host.strip("[]") not in ("127.0.0.1", "localhost", "::1"):
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        if expected and headers.get("proxy-authorization") != expected:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                           b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection((host.strip("[]"), int(port)), timeout=IDLE_SECONDS) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _tunnel(client, upstream)


def main(log, credentials=None):
    expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    while True:
        client = listener.accept()[0]
        client.settimeout(IDLE_SECONDS)
        threading.Thread(target=_serve, args=(client, log, expected), daemon=True).start()


class Running:
    def __init__(self, process, port, log):
        self.process, self.url, self.log = process, "http://127.0.0.1:%d" % port, Path(log)

    def requests(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=START_SECONDS)


def started(log, credentials=None):
    """The proxy as a child process, once it listens."""
    process = subprocess.Popen([sys.executable, __file__, str(log)] + ([credentials] if credentials else []),
                               stdout=subprocess.PIPE, text=True)
    ready = select.select([process.stdout], [], [], START_SECONDS)[0]
    if not ready:
        process.kill()
        process.wait(timeout=START_SECONDS)
        raise RuntimeError("the test proxy did not start within %d s" % START_SECONDS)
    return Running(process, int(process.stdout.readline()), log)


if __name__ == "__main__":
    main(*sys.argv[1:])
