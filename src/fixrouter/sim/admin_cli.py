"""`fixrouter sim-admin`: send one command to a running simulator and print the reply.

    fixrouter sim-admin --data-dir var/sim status
    fixrouter sim-admin --data-dir var/sim bust cl_ord_id=A1
    fixrouter sim-admin --data-dir var/sim news headline="Halt" text="AAPL halted"
    fixrouter sim-admin --data-dir var/sim --json '{"cmd": "drop"}'

Arguments after the command name are key=value pairs of the JSON command (values stay
strings, which is what every command takes). The reply is printed as one JSON line; the
exit status is 0 when it says "ok", 1 when the simulator refused the command and 2 when
the admin socket could not be reached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from fixrouter.sim.admin import AdminError, send_command
from fixrouter.sim.datadir import ADMIN_SOCKET_NAME


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/sim"),
        help="the simulator's data directory (default %(default)s)",
    )
    parser.add_argument(
        "--socket", type=Path, help="admin socket path (default <data-dir>/admin.sock)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--json", help="the whole command as a JSON object")
    parser.add_argument("command", nargs="?", help="status, unsolicited_cancel, bust, ...")
    parser.add_argument("fields", nargs="*", metavar="key=value")


def run(args: argparse.Namespace) -> int:
    try:
        command = _command(args)
    except ValueError as e:
        print(f"fixrouter sim-admin: {e}", file=sys.stderr)
        return 2
    path = args.socket or args.data_dir / ADMIN_SOCKET_NAME
    try:
        reply = send_command(path, command, timeout=args.timeout)
    except AdminError as e:
        print(f"fixrouter sim-admin: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(reply).decode() + "\n")
    return 0 if reply.get("ok") is True else 1


def _command(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON command from --json or from the positional arguments. Raises ValueError."""
    if args.json is not None:
        if args.command or args.fields:
            raise ValueError("give either --json or a command with key=value pairs, not both")
        try:
            command = orjson.loads(args.json)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"--json is not JSON: {e}") from None
        if not isinstance(command, dict):
            raise ValueError("--json must be an object")
        return command
    if not args.command:
        raise ValueError("no command given (try: status)")
    command = {"cmd": args.command}
    for field in args.fields:
        key, sep, value = field.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {field!r}")
        command[key] = value
    return command
