"""The simulator's admin channel: JSON lines over a Unix socket (mode 0600).

A client connects, writes one JSON object per line (`{"cmd": "bust", "cl_ord_id": "A1"}`)
and reads one JSON object per line back, in order: `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`. This module knows only the framing; what the commands
do lives in `fixrouter.sim.app` and is documented in fix/README.md. Each connection gets a
thread, which is plenty for a test tool and keeps a slow client from blocking another.
"""

from __future__ import annotations

import os
import socket
import socketserver
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from fixrouter.errors import ConfigError, FixRouterError

Handler = Callable[[dict[str, Any]], dict[str, Any]]

# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH = 107
_MAX_LINE = 1 << 16


class AdminError(FixRouterError):
    """The admin channel could not be reached, or answered with something that is not JSON."""


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    handler: Handler


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while line := self.rfile.readline(_MAX_LINE + 1):
            if not line.strip():
                continue
            self.wfile.write(orjson.dumps(_answer(self.server.handler, line)) + b"\n")
            self.wfile.flush()


def _answer(handler: Handler, line: bytes) -> dict[str, Any]:
    if len(line) > _MAX_LINE:
        return {"ok": False, "error": f"line longer than {_MAX_LINE} bytes"}
    try:
        command = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return {"ok": False, "error": f"not JSON: {e}"}
    if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
        return {"ok": False, "error": 'expected an object with a string "cmd"'}
    try:
        return handler(command)
    except FixRouterError as e:
        return {"ok": False, "error": str(e)}
    except Exception as e:  # a bug in a command must not take the simulator down
        return {"ok": False, "error": f"internal error: {type(e).__name__}: {e}"}


class AdminServer:
    """Serves `handler` on a Unix socket at `path` until `close()`."""

    def __init__(self, path: Path, handler: Handler) -> None:
        if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
            raise ConfigError(
                f"admin socket path is longer than {_MAX_SOCKET_PATH} bytes: {path} "
                "(use a shorter --data-dir or pass --admin-socket)"
            )
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise ConfigError(f"admin socket path exists and is not a socket: {path}")
            path.unlink()  # left behind by a killed run
        # The umask makes the socket 0600 from birth, with no window for another user to
        # connect. Set before any other thread exists, since umask is process-wide.
        old = os.umask(0o177)
        try:
            self._server = _Server(str(path), _Connection)
        finally:
            os.umask(old)
        self._server.handler = handler
        self._path = path
        # shutdown() waits for serve_forever to notice, which it checks every poll_interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sim-admin", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        self._path.unlink(missing_ok=True)


def send_command(path: Path, command: Mapping[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """Send one command and return the reply. Raises AdminError if the channel fails."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(path))
            s.sendall(orjson.dumps(command) + b"\n")
            with s.makefile("rb") as f:
                line = f.readline(_MAX_LINE + 1)
    except OSError as e:
        raise AdminError(f"admin socket {path}: {e}") from e
    try:
        reply = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise AdminError(f"admin socket {path}: reply is not JSON: {line!r}") from e
    if not isinstance(reply, dict):
        raise AdminError(f"admin socket {path}: reply is not an object: {line!r}")
    return reply
