"""The gateway's cost per event with real socket writes: `python -m tests.gateway.bench_server`.

A real `Gateway` on loopback TCP, one strategy connection whose far end is a separate
process that only reads (pinned to the other CPU when there are two), and a handler that
answers each `new` line with `events` events (1: `accepted`, as in the one-way run; 2:
`accepted` and `exec`, as in the acked run, where the `exec` really comes from a FIX read).
A read of `k` lines is handed to the connection's `data_received` directly, then the loop
turns once (`asyncio.sleep(0)`, so the end-of-turn write runs); the time per line of that,
median over many reads, is the gateway's cost per order: framing, parse, dispatch, encode
and the writes, including the kernel's loopback TCP path. Variants of `_Connection.write`
(see tests/bench/ab_gateway_writes.py), alternated round by round:

* `per-event`: one `transport.write` per event (the gateway before one write per turn);
* `first-at-once`: the gateway's own: the turn's first event at once, the rest together;
* `end-of-turn`: every event held for the end of the turn.

Timing the engine's own CPU on one core, with medians, keeps outside load from deciding
the comparison the way it decides whole-engine throughput on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

import uvloop
from tests.bench.ab_gateway_writes import FIRST_AT_ONCE, VARIANTS

from fixrouter.events import Accepted, ExecKind, Execution, OrderStatus
from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress, server
from fixrouter.requests import NewOrder

from .standin import StandInCore

LINE = (
    b'{"op":"new","id":"o-%d","symbol":"AAPL","side":"buy","qty":100,"type":"limit",'
    b'"price":"187.25","tif":"day","account":"U1234567"}\n'
)
DRAIN = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b'{"op":"hello","client":"bench"}\\n')
while s.recv(1 << 20):
    pass
"""
_ZERO = Decimal(0)
class Answering(StandInCore):
    """Answers each new order with `accepted` (and `exec new`), keeping no book."""

    def __init__(self, events: int) -> None:
        super().__init__()
        self.events = events

    def handle(self, request: Any) -> None:
        assert isinstance(request, NewOrder)
        self.deliver(request.strategy, Accepted(request.id, "FR1-000123"))
        if self.events > 1:
            self.deliver(request.strategy, Execution(
                request.id, ExecKind.NEW, OrderStatus.NEW, _ZERO, _ZERO, _ZERO,
                Decimal(request.qty), _ZERO, "E1", "O1",
            ))  # fmt: skip


async def measure(args: argparse.Namespace) -> None:
    core = Answering(args.events)
    config = replace(GatewayConfig(), listen=(ListenAddress("tcp", "127.0.0.1", 0),))
    gateway = Gateway(config, core)
    core.deliver = gateway.deliver
    await gateway.start()
    address = gateway.addresses[0]
    cpus = sorted(os.sched_getaffinity(0))
    pin = ["taskset", "-c", str(cpus[1])] if len(cpus) > 1 else []
    drain = subprocess.Popen(
        [*pin, sys.executable, "-c", DRAIN, address.host or "", str(address.port)]
    )
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[0]})
    try:
        while "bench" not in gateway.connected():
            await asyncio.sleep(0.01)
        (connection,) = gateway._by_name["bench"]
        clock = time.perf_counter_ns
        results: dict[tuple[str, int], list[float]] = {}
        names = args.variants.split(",")
        n = 0
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                server._Connection.write = VARIANTS[name]  # type: ignore[method-assign]
                for k in args.lines:
                    samples = []
                    for _ in range(args.reads):
                        block = b"".join(LINE % i for i in range(n, n + k))
                        n += k
                        start = clock()
                        connection.data_received(block)
                        await asyncio.sleep(0)  # the turn ends
                        samples.append((clock() - start) / k / 1000)
                        await asyncio.sleep(0)  # let the reader catch up between reads
                    results.setdefault((name, k), []).append(statistics.median(samples))
    finally:
        server._Connection.write = FIRST_AT_ONCE  # type: ignore[method-assign]
        drain.kill()
        await gateway.close()
    print(
        f"µs per order ({args.events} event(s) each), median over rounds of the median "
        f"of {args.reads} reads:"
    )
    print(f"{'lines per read':>16}" + "".join(f"{name:>16}" for name in names))
    for k in args.lines:
        print(
            f"{k:>16}" + "".join(f"{statistics.median(results[name, k]):16.2f}" for name in names)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, choices=(1, 2), default=1)
    parser.add_argument("--lines", type=int, nargs="+", default=[1, 2, 16, 64])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="per-event,first-at-once,end-of-turn")
    uvloop.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
