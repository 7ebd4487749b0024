"""A complete, minimal fixrouter strategy, using the asyncio client.

It buys 10 MSFT at market, rests a 100 AAPL limit buy, moves its price with a replace,
cancels it, and prints every event on the way. It exits 0 when each order ended the way
it should (market order filled, limit order canceled) and 1 otherwise.

Run it against a running engine:

    python examples/simple_strategy.py --url tcp://127.0.0.1:7001 --name demo

or stand-alone, against an in-process gateway with the FIX-less stand-in core (no IB, no
simulator), which fills market orders at once:

    python examples/simple_strategy.py --standalone

A token, when the engine has one configured for this name, comes from FIXROUTER_TOKEN.
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
        await client.new("mkt-1", "MSFT", "buy", 10, "market")
        await client.new("lmt-1", "AAPL", "buy", 100, "limit", price=Decimal("187.25"))

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
                await client.replace("lmt-1", "lmt-2", price=Decimal("187.30"))
            elif isinstance(event, Execution):
                if event.id == "lmt-2" and event.exec_type == "replaced" and not canceled:
                    canceled = True
                    print("working orders:", [s.id for s in await client.orders()])
                    await client.cancel("lmt-2")
                if event.status in DONE:
                    final[event.id] = event.status

    ok = (
        problems == 0
        and final.get("mkt-1") is OrderStatus.FILLED
        and final.get("lmt-2") is OrderStatus.CANCELED
    )
    print("outcome:", {k: v.value for k, v in final.items()}, "OK" if ok else "UNEXPECTED")
    return 0 if ok else 1


async def standalone(name: str) -> int:
    """Run the strategy against an in-process gateway on a free loopback port."""
    from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress
    from fixrouter.gateway.standin import StandInCore

    core = StandInCore()
    gateway = Gateway(GatewayConfig(listen=(ListenAddress("tcp", "127.0.0.1", 0),)), core)
    core.deliver = gateway.deliver
    await gateway.start()
    try:
        return await run(str(gateway.addresses[0]), name)
    finally:
        await gateway.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="tcp://127.0.0.1:7001")
    parser.add_argument("--name", default="example")
    parser.add_argument("--standalone", action="store_true", help="run an in-process gateway")
    args = parser.parse_args()
    if args.standalone:
        return asyncio.run(standalone(args.name))
    return asyncio.run(run(args.url, args.name, os.environ.get("FIXROUTER_TOKEN")))


if __name__ == "__main__":
    sys.exit(main())
