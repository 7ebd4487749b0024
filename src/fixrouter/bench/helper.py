"""The bench's helper process: the benchmark acceptor and the load generator on one loop.

Run by `fixrouter bench` as `python -m fixrouter.bench.helper [--cpu N] [--no-spin]`.

Theory of operation
-------------------
Both ends the engine talks to live here, on one uvloop loop in one thread, pinned to a
CPU the engine does not use: the FIX acceptor (`acceptor`) and the strategy
(`loadgen`). The first stdout line gives the acceptor's port; the controller then sends
`connect` (the gateway's port, known once the engine has started), and one command per
run (`fixrouter.bench.control`).

**Why the loop spins during a run.** On loopback the kernel delivers a `send` to the
receiving socket inside the sender's system call, and wakes the receiver if it sleeps.
On the project's virtual machine, waking a CPU that has been idle for a millisecond (an
inter-processor interrupt, which exits to the hypervisor) makes one 200-byte `send` cost
the sender about 25 µs instead of about 4 (a plain socket pair, 1 ms apart, receiver
asleep on the other CPU versus polling). An IB gateway behind a network card costs the
engine's `send` nothing of the sort, so the engine's figures must not depend on whether
the helper happened to be asleep. While a run is on, a `spin.Spinner` keeps the loop
polling, the helper never sleeps, and it also paces the load generator to the
microsecond. Between runs the loop sleeps. (In the paced run the helper has usually just
sent the order and its CPU is still awake, so `--no-spin`, which keeps the loop
sleeping, moved the median little and the p99.9 most; tests/bench/README.md.)

Because the process spins, its CPU time says nothing about its load; the acceptor and
the load generator instead add up the time spent in their handlers (`busy_ns`), which
the controller turns into their share of the core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import uvloop

from fixrouter.bench.acceptor import Acceptor, Mode
from fixrouter.bench.control import Command, ControlLoop, Reply, pin_to_cpu
from fixrouter.bench.loadgen import LoadGenerator
from fixrouter.bench.spin import Spinner


class Helper:
    """The commands the controller sends, carried out on the helper's loop."""

    def __init__(self, acceptor: Acceptor, generator: LoadGenerator, spinner: Spinner) -> None:
        self.acceptor = acceptor
        self.generator = generator
        self.spinner = spinner

    async def handle(self, command: Command) -> Reply:
        name = command.get("cmd")
        if name == "mode":
            self.acceptor.mode = Mode(command["mode"])
            return {"mode": self.acceptor.mode.value}
        if name == "stats":
            out: Reply = dict(self.acceptor.stats.as_dict())
            out.update(loadgen_busy_ns=self.generator.busy_ns, cpu_s=time.process_time(),
                       now_ns=time.monotonic_ns())
            return out
        if name == "connect":
            await self.generator.connect(str(command.get("host", "127.0.0.1")),
                                         int(command["port"]), str(command["client"]))
            return {"connected": True}
        if name == "spin":
            if command.get("on"):
                self.spinner.start()
            else:
                self.spinner.stop()
            return {"spin": bool(command.get("on"))}
        if name in ("paced", "burst"):
            self.spinner.start()
            try:
                return await self.generator.execute(command)
            finally:
                self.spinner.stop()
        raise ValueError(f"unknown command {name!r}")


async def serve(spin: bool) -> None:
    loop = asyncio.get_running_loop()
    acceptor = Acceptor()
    generator = LoadGenerator()
    helper = Helper(acceptor, generator, Spinner(generator.tick, spin))
    server = await loop.create_server(acceptor.factory, "127.0.0.1", 0, reuse_address=True)
    control = ControlLoop(helper.handle)
    control.send({"port": server.sockets[0].getsockname()[1], "pid": os.getpid()})
    try:
        await control.run()
    finally:
        helper.spinner.stop()
        server.close()
        for connection in list(acceptor.connections):
            connection.abort()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fixrouter.bench.helper",
                                     description="the bench's acceptor and load generator")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--no-spin", action="store_true", help="let the loop sleep in runs")
    args = parser.parse_args(argv)
    pin_to_cpu(args.cpu)
    uvloop.run(serve(not args.no_spin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
