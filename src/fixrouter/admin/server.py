"""The admin socket: a Unix socket (mode 0600) that answers JSON-line admin requests.

Theory of operation
-------------------
`AdminServer(path, target).start()` binds the socket under a umask of 0177 and then
chmods it to 0600, so no other user can reach it at any instant (it can stop trading and
move sequence numbers). A stale socket file left by a killed engine (nobody accepts on
it) is replaced; a live one, or a path that is not a socket, is an error rather than
something to delete. `close()` removes the file only if it is still the one we made.

Each connection reads lines (`MAX_LINE` at most), parses each into a `Request`
(`protocol.parse_request`), calls the target on the event-loop thread and writes one
answer line. The target's methods are synchronous and quick (a snapshot, a flag, a
store write), so nothing is awaited between reading a request and answering it, and
an admin command never interleaves with half of an order. Every command and its outcome
is logged (`fixrouter.admin`): an operator's action on a trading engine must leave a
trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path

from fixrouter.unixsock import SocketPathError, remove_stale_socket

from .protocol import (
    MAX_LINE,
    AdminError,
    AdminRefused,
    AdminTarget,
    BadRequest,
    Status,
    answer_error,
    answer_ok,
    dispatch,
    parse_request,
)

log = logging.getLogger("fixrouter.admin")


class AdminServer:
    """Serves `target` on the Unix socket `path`. See the module docstring."""

    def __init__(self, path: Path, target: AdminTarget) -> None:
        self.path = path
        self._target = target
        self._server: asyncio.AbstractServer | None = None
        self._identity: tuple[int, int] | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Raises AdminError (path taken by a live engine or not a socket, or unbindable)."""
        path = str(self.path)
        _remove_stale_socket(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            old_umask = os.umask(0o177)  # process-wide; start-up only, on the loop thread
            try:
                sock.bind(path)
            finally:
                os.umask(old_umask)
            os.chmod(path, 0o600)
            st = os.stat(path)
            self._server = await asyncio.start_unix_server(
                self._serve, sock=sock, limit=MAX_LINE + 1)
        except OSError as exc:
            sock.close()
            raise AdminError(f"cannot listen on admin socket {path}: "
                             f"{exc.strerror or exc}") from None
        self._identity = (st.st_dev, st.st_ino)
        log.info("admin socket at %s", path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await self._server.wait_closed()
            self._server = None
        if self._identity is not None:
            with contextlib.suppress(OSError):
                st = os.stat(self.path)
                if (st.st_dev, st.st_ino) == self._identity:
                    os.unlink(self.path)
            self._identity = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_LINE
                    writer.write(answer_error(f"request longer than {MAX_LINE} bytes"))
                    break
                if not line:
                    break
                if line.strip():
                    writer.write(self.handle(line))
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    def handle(self, line: bytes) -> bytes:
        """One request line -> one answer line (never raises)."""
        try:
            request = parse_request(line)
        except BadRequest as exc:
            log.warning("admin: bad request: %s", exc)
            return answer_error(str(exc))
        quiet = isinstance(request, Status)  # health checks poll it: keep it out of INFO
        if not quiet:
            log.warning("admin: %r", request)
        try:
            result = dispatch(self._target, request)
        except AdminRefused as exc:
            log.warning("admin: %r refused: %s", request, exc)
            return answer_error(str(exc))
        except Exception as exc:
            log.exception("admin: %r failed", request)
            return answer_error(f"internal error: {type(exc).__name__}: {exc}")
        if not quiet:
            log.warning("admin: %r done", request)
        return answer_ok(result)


def _remove_stale_socket(path: str) -> None:
    """Remove `path` if it is a socket nobody accepts on (see `fixrouter.unixsock`).

    Raises:
        AdminError: `path` is not a socket, or a live process is listening on it.
    """
    try:
        removed = remove_stale_socket(path, f"admin socket {path}")
    except SocketPathError as exc:
        raise AdminError(str(exc)) from None
    if removed:
        log.info("admin: removed stale socket %s", path)
