"""A complete, minimal fixrouter strategy, using the asyncio client.

It buys 10 MSFT at a marketable limit, rests a 100 IBM limit buy below the market, moves
its price with a replace, lists its working orders, cancels the IBM order, and prints
every event on the way. It exits 0 when each order ended the way it should (MSFT filled,
IBM canceled) and 1 otherwise.

Run it against the engine and the simulator playing IB (three terminals, or `&`):

    fixrouter sim --port 9878 --scenario fix/scenarios/certification.toml
    fixrouter run --config router.toml
    python examples/simple_strategy.py --url tcp://127.0.0.1:7001 --name example

The certification scenario fills MSFT in three parts and lets IBM rest until cancelled.
`router.toml` is `fix/router.toml` plus a `[risk]` table that lets these orders through:
the risk gate's defaults refuse every order in an instrument without a reference price
(`NO_REFERENCE_PRICE`) until one is set or learned from a fill, so add

    [risk.global]
    missing_reference = "warn"

A token, when the engine has one configured for this name, comes from FIXROUTER_TOKEN.
`tests/e2e/test_example.py` runs this file exactly so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from decimal import Decimal

from fixrouter.client import (
    Accepted,
    CancelRejected,
    Client,
    Denied,
    Execution,
    OrderStatus,
    RequestError,
)

DONE = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}


def describe(event: object) -> str:
    """One short line per event."""
    if isinstance(event, Execution):
        return (
            f"{event.id}: exec {event.exec_type} -> {event.status}, "
            f"filled {event.cum_qty} @ {event.avg_px}, {event.leaves_qty} left"
        )
    if isinstance(event, Accepted):
        return f"{event.id}: accepted as {event.cl_ord_id}"
    return repr(event)


async def run(url: str, name: str, token: str | None = None, timeout: float = 10.0) -> int:
    async with await Client.connect(url, name, token=token) as client:
        print(f"connected as {name}; round trip {await client.ping() * 1e6:.0f} us")
        await client.new("buy-1", "MSFT", "buy", 10, "limit", price=Decimal("410"))
        await client.new("lmt-1", "IBM", "buy", 100, "limit", price=Decimal("149.50"))

        final: dict[str, OrderStatus] = {}
        problems = 0
        replaced = canceled = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(final) < 2 and loop.time() < deadline:
            event = await client.next_event(timeout=deadline - loop.time())
            if event is None:
                break
            print("  ", describe(event))
            if isinstance(event, (Denied, RequestError, CancelRejected)):
                problems += 1
            elif isinstance(event, Accepted) and event.id == "lmt-1" and not replaced:
                replaced = True  # the order is live: move its price up a little
                await client.replace("lmt-1", "lmt-2", price=Decimal("149.55"))
            elif isinstance(event, Execution):
                if event.id == "lmt-2" and event.exec_type == "replaced" and not canceled:
                    canceled = True
                    print("working orders:", [s.id for s in await client.orders()])
                    await client.cancel("lmt-2")
                if event.status in DONE:
                    final[event.id] = event.status

    ok = (
        problems == 0
        and final.get("buy-1") is OrderStatus.FILLED
        and final.get("lmt-2") is OrderStatus.CANCELED
    )
    print("outcome:", {k: v.value for k, v in final.items()}, "OK" if ok else "UNEXPECTED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="tcp://127.0.0.1:7001")
    parser.add_argument("--name", default="example")
    args = parser.parse_args()
    return asyncio.run(run(args.url, args.name, os.environ.get("FIXROUTER_TOKEN")))


if __name__ == "__main__":
    sys.exit(main())
