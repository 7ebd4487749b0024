"""`fixrouter bench`: the engine's latency and throughput, and QuickFIX's beside it.

See `fixrouter.bench` for what is measured and how, and `tests/bench/README.md` for the
figures on the project machine. Exit status 0 when every order was acknowledged, 1 when
one was not (the table says which run and why), 2 for bad options.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import orjson
import uvloop

from fixrouter.bench.control import ControlError
from fixrouter.bench.report import render_table
from fixrouter.bench.runner import BenchOptions, run_bench
from fixrouter.errors import FixRouterError


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = BenchOptions()
    parser.add_argument("--orders", type=int, default=defaults.orders,
                        help="orders in the paced run (default %(default)s)")
    parser.add_argument("--rate", type=float, default=defaults.rate,
                        help="offered rate of the paced run, orders/s (default %(default)g)")
    parser.add_argument("--duration", type=float, default=defaults.duration,
                        help="seconds of each saturated run (default %(default)g)")
    parser.add_argument("--durability", choices=("os", "fsync"), default=defaults.durability,
                        help="journal durability (default %(default)s)")
    parser.add_argument("--window", type=int, default=defaults.window,
                        help="orders in flight in the saturated runs (default %(default)s)")
    parser.add_argument("--peer", choices=("quickfix",), default=None,
                        help="also run the same workload through a QuickFIX initiator")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the engine and the helpers to separate CPUs")
    parser.add_argument("--no-spin", action="store_true",
                        help="let the helper process sleep between messages during runs")
    parser.add_argument("--no-busy-poll", dest="busy_poll", action="store_false",
                        help="let the engine's loop sleep in epoll when idle ([engine] "
                             "busy_poll = false, fixrouter run's default) instead of "
                             "busy-polling as on a core of its own")
    parser.add_argument("--python-gc", action="store_true",
                        help="keep CPython's default garbage-collector settings in the "
                             "engine instead of fixrouter run's policy (to compare)")
    parser.add_argument("--no-late", action="store_true",
                        help="skip the paced run after the saturated ones")
    parser.add_argument("--memory-orders", type=int, default=defaults.memory_orders,
                        help="first, push this many orders that finish (the acceptor fills "
                             "each) and report the engine's RSS growth per million "
                             "(issue 7; 1000000 takes about a minute; default: no memory "
                             "run)")
    parser.add_argument("--memory-warmup", type=int, default=defaults.memory_warmup,
                        help="finishing orders before the memory run's RSS baseline "
                             "(default %(default)s)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work directory to use and keep (journals, helper logs)")


def run(args: argparse.Namespace) -> int:
    if args.orders < 2 or args.rate <= 0 or args.duration <= 0 or args.window < 1:
        print("fixrouter bench: --orders >= 2, --rate > 0, --duration > 0, --window >= 1",
              file=sys.stderr)
        return 2
    if args.memory_orders < 0 or args.memory_warmup < 0:
        print("fixrouter bench: --memory-orders and --memory-warmup >= 0", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = BenchOptions(
        orders=args.orders, rate=args.rate, duration=args.duration,
        durability=args.durability, window=args.window, peer=args.peer,
        pin=not args.no_pin, late=not args.no_late, spin=not args.no_spin,
        busy_poll=args.busy_poll, python_gc=args.python_gc, keep=args.keep,
        memory_orders=args.memory_orders, memory_warmup=args.memory_warmup,
    )
    try:
        result = uvloop.run(run_bench(options))
    except (ControlError, FixRouterError, OSError) as e:
        print(f"fixrouter bench: {e}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_table(result))
    return 0 if result["all_acknowledged"] else 1
