"""The `[admin]` table: where the admin socket is.

```toml
[admin]
socket = "/run/fixrouter/admin.sock"   # default: admin.sock in the first session's FileStorePath
enabled = true                         # false: no admin socket (and no admin commands)
```

**Where the socket goes by default.** In the first configured session's FileStorePath
(`<FileStorePath>/admin.sock`). That directory always exists, is writable by the engine
(it holds the journal) and private to its user, which suits a socket that can stop
trading; it needs no extra setting on a development machine, where `/run` is not
writable. Under the systemd unit, set `socket = "/run/fixrouter/admin.sock"` to keep it
beside the gateway's socket in the unit's RuntimeDirectory (the runbook's layout). The
socket is created with mode 0600 either way: only the engine's user (and root) can
connect.

A Unix socket path holds at most 107 bytes; a longer one is a `ConfigError` here rather
than a failure at start-up. Unknown keys are a `ConfigError` naming the key.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixrouter.errors import ConfigError

SOCKET_NAME = "admin.sock"
_KEYS = ("socket", "enabled")
_SUN_PATH_MAX = 107


@dataclass(frozen=True, slots=True)
class AdminSettings:
    socket: Path | None = None
    """None: `<first session's FileStorePath>/admin.sock` (see `socket_path`)."""
    enabled: bool = True

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> AdminSettings:
        """Raises ConfigError naming an unknown key or a bad value."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _KEYS:
                hint = difflib.get_close_matches(key, _KEYS, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(f"unknown key {key!r}{suffix} (known: {', '.join(_KEYS)})")
        enabled = table.get("enabled", True)
        if type(enabled) is not bool:
            raise ConfigError(f"enabled: expected true or false, got {enabled!r}")
        raw = table.get("socket")
        socket = None
        if raw is not None:
            if not isinstance(raw, str) or not raw:
                raise ConfigError(f"socket: expected a path, got {raw!r}")
            socket = Path(os.path.abspath(raw))
            check_socket_path(socket, "socket")
        return cls(socket, enabled)


def socket_path(settings: AdminSettings, store_directories: Sequence[Path]) -> Path:
    """The socket's path: the configured one, or admin.sock in the first session's
    FileStorePath. Raises ConfigError if the default would be too long for a socket."""
    if settings.socket is not None:
        return settings.socket
    path = store_directories[0] / SOCKET_NAME
    check_socket_path(path, "socket (default, in the first session's FileStorePath)")
    return path


def check_socket_path(path: Path, key: str) -> None:
    if len(os.fsencode(path)) > _SUN_PATH_MAX:
        raise ConfigError(f"{key}: {path} is longer than {_SUN_PATH_MAX} bytes, the limit "
                          "of a Unix socket path; set [admin] socket to a shorter one")
