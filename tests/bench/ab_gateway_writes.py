"""The gateway's event writes, A/B inside one bench engine, so outside load hits all alike.

Run: `python tests/bench/ab_gateway_writes.py [--rounds N] [--duration S] [--orders N]
[--variants per-event,first-at-once,end-of-turn]`

One engine as `fixrouter bench` assembles it (`fixrouter.bench.runner`); each round runs
the bench's paced, acked and one-way runs once per variant of
`fixrouter.gateway.server._Connection.write` (swapped between runs; the module is not
compiled), the variants' order alternating from round to round:

* `per-event`: one `transport.write` per event, the gateway before one write per turn;
* `first-at-once`: the gateway's own (`fixrouter.gateway.server`, "One write per loop
  turn"): the first event of a turn at once, the rest in one write at the turn's end;
* `end-of-turn`: every event held for the end of the turn, the first one too.

Prints each run's figures, then per variant the medians and the median of its ratios to
the first variant's runs of the same round (paired: a burst of outside load that lands on
one round moves both). Every run's orders rest in the book, so keep rounds x duration
modest (a few hundred thousand orders).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvloop

from fixrouter.bench import runner
from fixrouter.bench.runner import BenchOptions
from fixrouter.gateway import server

Write = Callable[[Any, bytes], None]
FIRST_AT_ONCE: Write = server._Connection.write


def per_event(self: Any, data: bytes) -> None:
    if not self._closed:
        self._transport.write(data)


def end_of_turn(self: Any, data: bytes) -> None:
    if self._closed:
        return
    if not self._in_turn:
        self._in_turn = True
        self._gateway._wrote(self)
    self._out.append(data)
    self._held += len(data)
    if self._held >= self._hold_limit:
        self._write_held()


VARIANTS: dict[str, Write] = {
    "per-event": per_event,
    "first-at-once": FIRST_AT_ONCE,
    "end-of-turn": end_of_turn,
}


def figures(
    paced: dict[str, Any], acked: dict[str, Any], one_way: dict[str, Any]
) -> dict[str, float]:
    return {
        "one-way orders/s": one_way["orders_per_s"],
        "acked orders/s": acked["orders_per_s"],
        "CPU µs/order one-way": one_way["engine_cpu"] * 1e6 / one_way["orders_per_s"],
        "CPU µs/order acked": acked["engine_cpu"] * 1e6 / acked["orders_per_s"],
        "tick-to-wire p50 µs": paced["tick_to_wire_us"]["p50"],
        "tick-to-wire p99 µs": paced["tick_to_wire_us"]["p99"],
        "round trip p50 µs": paced["rtt_us"]["p50"],
        "round trip p99 µs": paced["rtt_us"]["p99"],
    }


async def ab(names: list[str], rounds: int, options: BenchOptions) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="fixrouter-ab-"))
    bench = runner._Bench(options, workdir)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    try:
        await bench.start()
        await bench._run("acked", bench._warmup())
        for round_ in range(rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                server._Connection.write = VARIANTS[name]  # type: ignore[method-assign]
                paced = await bench._run("acked", bench._paced())
                acked = await bench._run("acked", bench._burst("exec"))
                one_way = await bench._run("sink", bench._burst("accepted"))
                results[name].append(figures(paced, acked, one_way))
                shown = {k: round(v, 1) for k, v in results[name][-1].items()}
                print(time.strftime("%H:%M:%S"), round_, name, json.dumps(shown), flush=True)
    finally:
        server._Connection.write = FIRST_AT_ONCE  # type: ignore[method-assign]
        await bench.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if bench.problems:
        print("problems:", bench.problems)
    base = names[0]
    print(
        f"\n{'median':22}"
        + "".join(f"{name:>16}" for name in names)
        + "".join(f"{name + ' / ' + base:>30}" for name in names[1:])
    )
    for key in results[base][0]:
        columns = {name: [run[key] for run in results[name]] for name in names}
        line = f"{key:22}" + "".join(f"{statistics.median(columns[n]):16,.1f}" for n in names)
        for name in names[1:]:
            ratios = [b / a for a, b in zip(columns[base], columns[name], strict=True)]
            line += f"{statistics.median(ratios):30.3f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--orders", type=int, default=1000, help="paced orders at 1,000/s")
    parser.add_argument("--variants", default="per-event,first-at-once,end-of-turn")
    parser.add_argument("--no-busy-poll", dest="busy_poll", action="store_false")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    options = BenchOptions(
        duration=args.duration, orders=args.orders, late=False, busy_poll=args.busy_poll
    )
    uvloop.run(ab(names, args.rounds, options))


if __name__ == "__main__":
    main()
