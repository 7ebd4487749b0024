"""`fixrouter ref-price SYMBOL PRICE`: set the reference price the risk checks use.

The price collar and the notional checks compare an order with its instrument's
reference price; after a restart (or for an instrument not traded yet) there may be none
(NO_REFERENCE_PRICE). The price set here stands until the next fill in the instrument.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .cli import USAGE, add_socket_arguments, run_command
from .protocol import BadRequest, parse_price


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", help="the instrument (the symbol, for stocks)")
    parser.add_argument("price", help="a decimal price above 0, e.g. 190.50")
    add_socket_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        price = parse_price(args.price)
    except BadRequest as exc:
        print(f"fixrouter ref-price: {exc}", file=sys.stderr)
        return USAGE
    return run_command(args, "ref-price", "ref_price", show, symbol=args.symbol,
                       price=str(price))


def show(result: Any) -> None:
    previous = result.get("previous")
    was = f" (was {previous})" if previous is not None else ""
    print(f"reference price of {result['symbol']} set to {result['price']}{was}")
