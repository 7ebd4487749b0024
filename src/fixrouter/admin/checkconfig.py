"""`fixrouter check-config FILE`: validate a router config offline, as the engine would.

It loads the whole file with every table `fixrouter run` knows (the same `load`), checks
the routing against the sessions, the admin socket path, and each session's TLS files,
without opening a journal, binding a port or talking to IB. It prints `OK` with a short
summary and exits 0, or prints the error naming the file and key and exits 2 (the
engine's own exit status for a config error, which systemd does not retry).

Run it as the engine's user with the engine's environment: a `token_env` variable that
is not set is an error here exactly as at start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fixrouter.errors import ConfigError

OK, INVALID = 0, 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the router TOML file to check")


def run(args: argparse.Namespace) -> int:
    # Imported here: the whole engine's settings, but only when this command runs.
    from fixrouter.operations import admin_socket, load, metrics_settings

    try:
        config = load(args.file)
        for s in config.sessions:
            if s.transport.tls is not None:
                try:
                    s.transport.tls.context()
                except ConfigError as exc:
                    raise ConfigError(f"{args.file}: session {s.name!r}: {exc}") from None
    except ConfigError as exc:
        print(f"fixrouter check-config: {exc}", file=sys.stderr)
        return INVALID
    names = ", ".join(s.name for s in config.sessions)
    metrics = metrics_settings(config)
    socket = admin_socket(config)
    print(f"OK: {args.file}")
    print(f"  sessions: {names}")
    print(f"  tables: {', '.join(sorted(config.sections)) or '(defaults only)'}")
    print(f"  metrics: {'http://' + metrics.listen + '/metrics' if metrics.enabled else 'off'}")
    print(f"  admin socket: {socket if socket is not None else 'off'}")
    return OK
