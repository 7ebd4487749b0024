"""What the admin subcommands share: finding the socket, calling it, exit statuses.

Every admin subcommand (`status`, `kill-switch`, `reload`, `seq`, `ref-price`) talks to
a running engine through its admin socket. The socket is found, in order, from:

1. `--socket PATH`;
2. `--config FILE`, else `$FIXROUTER_CONFIG`, else `/etc/fixrouter/router.toml`: its
   `[admin] socket`, or admin.sock in its first session's FileStorePath (the engine's
   default, `fixrouter.admin.settings`).

The config is read for those two keys only, not validated whole: the gateway's
`token_env` variables live in the engine's environment, not in the operator's shell, and
`fixrouter check-config` is the command that validates a file. A relative FileStorePath
is taken relative to the current directory, as the engine takes it relative to its own:
use absolute paths in production, or `--socket`.

Exit statuses: 0 done; 1 the engine refused the command or could not be reached (the
message says which); 2 a usage or config error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fixrouter.config.loader import DEFAULT_FILE_STORE_PATH
from fixrouter.errors import ConfigError

from .client import DEFAULT_TIMEOUT, call
from .protocol import AdminError, AdminRefused
from .settings import AdminSettings, socket_path

DEFAULT_CONFIG = Path("/etc/fixrouter/router.toml")
OK, REFUSED, USAGE = 0, 1, 2


def add_socket_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--socket", type=Path, help="the engine's admin socket")
    where.add_argument(
        "--config", type=Path,
        help="the engine's router TOML, to find its admin socket "
             f"(default: $FIXROUTER_CONFIG, else {DEFAULT_CONFIG})",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds to wait for the engine (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the engine's answer as JSON")


def locate(args: argparse.Namespace) -> Path:
    """The admin socket's path. Raises ConfigError naming the file and key."""
    if args.socket is not None:
        return Path(args.socket)
    config = args.config or Path(os.environ.get("FIXROUTER_CONFIG") or DEFAULT_CONFIG)
    try:
        document = tomllib.loads(Path(config).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{config}: cannot read: {exc.strerror} (give --config or "
                          "--socket)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config}: not valid TOML: {exc}") from None
    try:
        settings = AdminSettings.from_toml_table(document.get("admin", {}))
        if settings.socket is not None:
            return settings.socket
        session = document.get("session")
        sessions = document.get("sessions")
        first = session if isinstance(session, dict) else (
            sessions[0] if isinstance(sessions, list) and sessions
            and isinstance(sessions[0], dict) else None)
        if first is None:
            raise ConfigError("no [session] table or [[sessions]] array")
        store = first.get("FileStorePath", DEFAULT_FILE_STORE_PATH)
        if not isinstance(store, str) or not store:
            raise ConfigError("FileStorePath: expected a path")
        return socket_path(settings, [Path(os.path.abspath(store))])
    except ConfigError as exc:
        raise ConfigError(f"{config}: [admin] {exc}") from None


def run_command(
    args: argparse.Namespace,
    prog: str,
    cmd: str,
    show: Callable[[Any], None],
    **fields: Any,
) -> int:
    """Locate the socket, send one command, print its answer (`show`, or JSON)."""
    try:
        path = locate(args)
    except ConfigError as exc:
        print(f"fixrouter {prog}: {exc}", file=sys.stderr)
        return USAGE
    try:
        result = call(path, cmd, timeout=args.timeout, **fields)
    except AdminRefused as exc:
        print(f"fixrouter {prog}: refused: {exc}", file=sys.stderr)
        return REFUSED
    except AdminError as exc:
        print(f"fixrouter {prog}: {exc}", file=sys.stderr)
        return REFUSED
    if args.json:
        import orjson

        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        show(result)
    return OK
