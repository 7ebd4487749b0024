"""`fixrouter status`: the running engine's sessions, strategies, orders and kill switches.

Exit status 0 when the engine answered (the container's HEALTHCHECK runs `fixrouter
status --quiet` and relies on that), 1 when it could not be reached, 2 for a usage or
config error.
"""

from __future__ import annotations

import argparse
from typing import Any

from .cli import add_socket_arguments, run_command

SHOWN_ORDERS = 50


def configure(parser: argparse.ArgumentParser) -> None:
    add_socket_arguments(parser)
    parser.add_argument("--orders", action="store_true",
                        help="list the open orders too (the first 1000)")
    parser.add_argument("--quiet", action="store_true",
                        help="no output when the engine answers (exit 0); when it cannot be "
                             "reached, one line on stderr and exit 1")


def run(args: argparse.Namespace) -> int:
    if args.quiet:
        return run_command(args, "status", "status", lambda r: None)
    return run_command(args, "status", "status", lambda r: show(r, args.orders))


def show(result: Any, orders: bool = False) -> None:
    for s in result["sessions"]:
        state = s["state"] + (" (logged on)" if s["logged_on"] else "")
        hours = "in" if s["in_trading_hours"] else "outside"
        print(f"session {s['name']}: {state}; next seq out {s['next_out']}, in {s['next_in']}; "
              f"{hours} trading hours" + (f"; via {s['endpoint']}" if s.get("endpoint") else ""))
        if s["operator_action_required"]:
            print("  OPERATOR ACTION REQUIRED: sequence numbers disagree with IB's "
                  "(MsgSeqNum too low); agree them with IB, then `fixrouter seq set`")
    strategies = result["strategies"]
    print(f"strategies connected: {len(strategies)}"
          + (f" ({', '.join(strategies)})" if strategies else ""))
    book = result["open_orders"]
    print(f"open orders: {book['count']}")
    if orders:
        for o in book["orders"]:
            price = f" @ {o['price']}" if o.get("price") is not None else ""
            print(f"  {o['strategy'] or '(orphan)'}/{o['id']} {o['cl_ord_id']} on {o['session']}: "
                  f"{o['side']} {o['qty']} {o['symbol']}{price}, {o['status']}, "
                  f"filled {o['cum_qty']}")
    switches = result["kill_switches"]
    if not switches:
        print("kill switches: none engaged")
    for k in switches:
        who = k["scope"] + (f" {k['name']}" if k["name"] else "")
        how = "automatically" if k["automatic"] else "by hand"
        print(f"KILL SWITCH ENGAGED: {who}, {how} at {k['since']}: {k['reason']}")
    print(f"risk gate: {'open' if result['risk_ready'] else 'CLOSED (recovering)'}")
