"""Claiming a Unix socket path that a previous run may have left behind.

A server that died (kill -9, power loss) leaves its socket file. Binding again needs the
file gone, but deleting blindly could pull the rug from a live server, or delete a file
that is not a socket at all. So: a non-socket is refused, a socket someone accepts on is
refused, and only a socket that refuses connections is removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

from fixrouter.errors import FixRouterError


class SocketPathError(FixRouterError):
    """The path cannot be claimed; the message says why."""


def remove_stale_socket(path: str, label: str) -> bool:
    """Remove `path` if it is a socket nobody accepts on. True if something was removed.

    `label` names the socket in error messages (e.g. "admin socket /run/x.sock").

    Raises:
        SocketPathError: `path` is not a socket, cannot be checked, or a live process is
            listening on it.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SocketPathError(f"cannot check {label}: {exc.strerror}") from None
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketPathError(f"{label} exists and is not a socket; not removing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            raise SocketPathError(f"cannot check {label}: {exc.strerror or exc}") from None
    else:
        raise SocketPathError(f"{label} is in use by another process")
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True
