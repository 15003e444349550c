"""Loopback stand-ins for dependencies that fail: a Redis that can go silent, a port that
refuses connections, a PostgreSQL that accepts and never answers.

`FakeRedis` speaks enough of the Redis protocol (RESP2) for django-redis and the feed
throttle: HELLO, PING, SELECT, CLIENT, GET, SET [NX] [PX|EX], MGET, DEL, EXISTS, INCRBY, EXPIRE,
PEXPIRE, TTL, PTTL, FLUSHDB and django-redis' EVAL for `incr`. `silent = True` makes it stop
answering (connections stay open, commands are read and never answered), as a Redis that
ran out of memory or hangs does; `silent = False` brings it back.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import closing, contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LoopbackHTTP:
    """A threaded HTTP server on 127.0.0.1 for one handler class, started by `with` and shut
    down on exit; `stop` is set first, so a handler writing a slow body can end early."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], stop: threading.Event) -> None:
        self.stop = stop
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self.connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class SilentServer(_Server):
    """Accepts connections, reads whatever comes, never answers (a hung PostgreSQL)."""

    def serve(self, conn: socket.socket) -> None:
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass


class FakeRedis(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.silent = False
        self.data: dict[bytes, tuple[bytes, float | None]] = {}
        self.commands: list[str] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                command = _read_command(reader)
                if command is None:
                    return
                if self.silent:
                    continue
                with self._lock:
                    self.commands.append(command[0].decode().upper())
                    reply = self._execute(command)
                conn.sendall(reply)
        except OSError:
            return

    # -- the commands --

    def _alive(self, key: bytes) -> bytes | None:
        item = self.data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.monotonic():
            del self.data[key]
            return None
        return item[0]

    def _execute(self, command: list[bytes]) -> bytes:
        name, args = command[0].upper(), command[1:]
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"HELLO":  # redis-py asks for RESP3; the replies below read the same
            return b"%1\r\n$5\r\nproto\r\n:3\r\n"
        if name in (b"SELECT", b"CLIENT", b"FLUSHDB"):
            if name == b"FLUSHDB":
                self.data.clear()
            return b"+OK\r\n"
        if name == b"GET":
            return _bulk(self._alive(args[0]))
        if name == b"MGET":
            return b"*%d\r\n" % len(args) + b"".join(_bulk(self._alive(k)) for k in args)
        if name == b"SET":
            return self._set(args)
        if name == b"DEL":
            return b":%d\r\n" % sum(self.data.pop(k, None) is not None for k in args)
        if name == b"EXISTS":
            return b":%d\r\n" % sum(self._alive(k) is not None for k in args)
        if name == b"INCRBY":
            return self._incrby(args[0], int(args[1]))
        if name in (b"EXPIRE", b"PEXPIRE"):
            value = self._alive(args[0])
            if value is None:
                return b":0\r\n"
            seconds = int(args[1]) / (1000 if name == b"PEXPIRE" else 1)
            self.data[args[0]] = (value, time.monotonic() + seconds)
            return b":1\r\n"
        if name in (b"TTL", b"PTTL"):
            if self._alive(args[0]) is None:
                return b":-2\r\n"
            expires = self.data[args[0]][1]
            if expires is None:
                return b":-1\r\n"
            left = expires - time.monotonic()
            return b":%d\r\n" % int(left * (1000 if name == b"PTTL" else 1))
        if name == b"EVAL":  # django-redis incr: INCRBY, guarded by EXISTS unless told not to
            script, key, delta = args[0], args[2], int(args[3])
            if b"EXISTS" in script and self._alive(key) is None:
                return b"_\r\n"
            return self._incrby(key, delta)
        return b"-ERR unknown command '%s'\r\n" % name

    def _set(self, args: list[bytes]) -> bytes:
        key, value, options = args[0], args[1], [a.upper() for a in args[2:]]
        expires = None
        if b"PX" in options:
            expires = time.monotonic() + int(options[options.index(b"PX") + 1]) / 1000
        if b"EX" in options:
            expires = time.monotonic() + int(options[options.index(b"EX") + 1])
        exists = self._alive(key) is not None
        if (b"NX" in options and exists) or (b"XX" in options and not exists):
            return b"_\r\n"
        self.data[key] = (value, expires)
        return b"+OK\r\n"

    def _incrby(self, key: bytes, delta: int) -> bytes:
        current = self._alive(key)
        total = int(current or 0) + delta
        expires = self.data[key][1] if current is not None else None
        self.data[key] = (str(total).encode(), expires)
        return b":%d\r\n" % total


def _bulk(value: bytes | None) -> bytes:
    return b"_\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)


def _read_command(reader) -> list[bytes] | None:
    line = reader.readline()
    if not line:
        return None
    if not line.startswith(b"*"):  # inline command
        return line.strip().split()
    parts = []
    for _ in range(int(line[1:])):
        size = int(reader.readline()[1:])
        parts.append(reader.read(size + 2)[:-2])
    return parts


@contextmanager
def redis_cache_settings(settings, url: str, *, timeout: float = 0.3, fallback: float = 30):
    """Point the default cache at `url` through qunex.cache with short socket timeouts."""
    settings.CACHES = {
        "default": {
            "BACKEND": "qunex.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "t",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                "FALLBACK_SECONDS": fallback,
                "WARN_SECONDS": 300,
            },
        }
    }
    yield
