"""The CLI's side of the admin socket: one request, one answer, blocking."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import orjson

from .protocol import MAX_LINE, AdminError, AdminRefused, request_line

DEFAULT_TIMEOUT = 10.0


def call(path: Path, cmd: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> Any:
    """Send one request and return its `result`.

    Raises:
        AdminError: the socket cannot be reached (no engine, wrong path, permission), or
            the answer is not a valid one (the message names the path).
        AdminRefused: the engine refused the command (the message is its reason).
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(str(path))
        except FileNotFoundError:
            raise AdminError(f"no admin socket at {path}: is the engine running "
                             "(and is this its config)?") from None
        except PermissionError:
            raise AdminError(f"permission denied on {path}: run as the engine's user "
                             "(the socket is mode 0600)") from None
        except ConnectionRefusedError:
            raise AdminError(f"nobody answers on {path}: the engine is not running "
                             "(a stale socket)") from None
        except OSError as exc:
            raise AdminError(f"cannot connect to {path}: {exc.strerror or exc}") from None
        try:
            sock.sendall(request_line(cmd, **fields))
            answer = _read_line(sock)
        except TimeoutError:
            raise AdminError(f"no answer from {path} within {timeout:g} s") from None
        except OSError as exc:
            raise AdminError(f"{path}: {exc.strerror or exc}") from None
    finally:
        sock.close()
    try:
        reply = orjson.loads(answer)
    except orjson.JSONDecodeError:
        raise AdminError(f"{path}: the answer is not JSON: {answer[:200]!r}") from None
    if not isinstance(reply, dict) or "ok" not in reply:
        raise AdminError(f"{path}: not an admin answer: {answer[:200]!r}")
    if not reply["ok"]:
        raise AdminRefused(str(reply.get("error", "refused")))
    return reply.get("result")


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise AdminError("the engine closed the admin connection without answering")
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk:
            return b"".join(chunks).split(b"\n", 1)[0]
        if size > 64 * MAX_LINE:
            raise AdminError("the admin answer is too long")
