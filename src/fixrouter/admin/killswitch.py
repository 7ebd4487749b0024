"""`fixrouter kill-switch on|off [--account A | --strategy S] [--cancel-all]`.

`on` engages a switch: the whole engine's (no option), one account's or one strategy's.
New orders and replaces it covers are denied with KILL_SWITCH; cancels always pass.
`--cancel-all` also cancels every working order in its scope. `off` releases it: the only
way a switch is ever released (see the runbook, "When the kill switch fires").
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .cli import USAGE, add_socket_arguments, run_command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("on", "off"))
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--account", metavar="A", help="only this account's orders")
    scope.add_argument("--strategy", metavar="S", help="only this strategy's orders")
    parser.add_argument("--cancel-all", action="store_true",
                        help="with on: also cancel every working order in scope")
    parser.add_argument("--reason", help="why (kept with the switch, shown by status)")
    add_socket_arguments(parser)


def run(args: argparse.Namespace) -> int:
    engage = args.action == "on"
    if args.cancel_all and not engage:
        print("fixrouter kill-switch: --cancel-all goes with `on`", file=sys.stderr)
        return USAGE
    if args.account:
        scope, name = "account", args.account
    elif args.strategy:
        scope, name = "strategy", args.strategy
    else:
        scope, name = "engine", ""
    fields: dict[str, Any] = {"engage": engage, "scope": scope, "name": name,
                              "cancel_all": args.cancel_all}
    if args.reason:
        fields["reason"] = args.reason
    return run_command(args, "kill-switch", "kill_switch", show, **fields)


def show(result: Any) -> None:
    who = result["scope"] + (f" {result['name']}" if result["name"] else "")
    if result["engaged"]:
        print(f"kill switch ENGAGED for {who}: {result['reason']}")
        print(f"  held requests dropped: {result['dropped']}; "
              f"cancels sent: {result['cancels']}")
    elif result["released"]:
        print(f"kill switch released for {who}")
    else:
        print(f"kill switch for {who} was not engaged; nothing changed")
