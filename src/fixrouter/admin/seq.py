"""`fixrouter seq show` and `fixrouter seq set --next-out N --next-in M`.

`show` prints each session's next outbound and inbound MsgSeqNum and whether it waits for
an operator (case 15: IB answered our Logon with "MsgSeqNum too low").

`set` changes the numbers of one session (`--session`, needed when several are
configured). The engine refuses unless the session is logged out: setting numbers under
a live session would corrupt it. It asks for confirmation (type `yes`), or takes `--yes`
when run from a script; without a terminal and without `--yes` it refuses. Agree the
numbers with IB first (runbook, "MsgSeqNum too low"). If the session was stopped for
operator action, it connects and logs on again with the new numbers at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fixrouter.errors import ConfigError

from .cli import USAGE, add_socket_arguments, locate, run_command
from .client import call
from .protocol import AdminError, AdminRefused


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="{show,set}")
    show_parser = sub.add_parser("show", help="print every session's sequence numbers")
    add_socket_arguments(show_parser)
    set_parser = sub.add_parser("set", help="set a logged-out session's sequence numbers")
    set_parser.add_argument("--session", help="the session (needed if there are several)")
    set_parser.add_argument("--next-out", type=int, metavar="N",
                            help="MsgSeqNum of the next message we send")
    set_parser.add_argument("--next-in", type=int, metavar="M",
                            help="MsgSeqNum we expect next from IB")
    set_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_socket_arguments(set_parser)


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        return run_command(args, "seq show", "seq_show", show)
    if args.next_out is None and args.next_in is None:
        print("fixrouter seq set: give --next-out, --next-in or both", file=sys.stderr)
        return USAGE
    for flag, value in (("--next-out", args.next_out), ("--next-in", args.next_in)):
        if value is not None and value < 1:
            print(f"fixrouter seq set: {flag} must be at least 1", file=sys.stderr)
            return USAGE
    if not args.yes:
        if not sys.stdin.isatty():
            print("fixrouter seq set: not a terminal: confirm with --yes", file=sys.stderr)
            return USAGE
        if not _confirm(args):
            print("fixrouter seq set: not confirmed; nothing changed", file=sys.stderr)
            return USAGE
    return run_command(args, "seq set", "seq_set", show_set, session=args.session,
                       next_out=args.next_out, next_in=args.next_in)


def _confirm(args: argparse.Namespace) -> bool:
    current = ""
    try:
        shown = call(locate(args), "seq_show", timeout=args.timeout)
        for s in shown["sessions"]:
            if args.session in (None, s["name"]):
                current += (f"  {s['name']}: now next out {s['next_out']}, "
                            f"next in {s['next_in']} ({s['state']})\n")
    except (AdminError, AdminRefused, ConfigError, KeyError, TypeError):
        pass  # only the preview is lost: the set itself will report the problem
    wanted = ", ".join(
        f"{name} {value}" for name, value in
        (("next out", args.next_out), ("next in", args.next_in)) if value is not None)
    sys.stdout.write(current + f"Set {args.session or 'the session'}'s {wanted}? "
                     "Type 'yes' to confirm: ")
    sys.stdout.flush()
    return sys.stdin.readline().strip() == "yes"


def show(result: Any) -> None:
    for s in result["sessions"]:
        flag = "  OPERATOR ACTION REQUIRED (MsgSeqNum too low)" \
            if s["operator_action_required"] else ""
        print(f"{s['name']}: next out {s['next_out']}, next in {s['next_in']} "
              f"({s['state']}){flag}")


def show_set(result: Any) -> None:
    print(f"{result['session']}: next out {result['next_out']}, next in {result['next_in']}"
          + ("; resumed: logging on again" if result["resumed"] else ""))
