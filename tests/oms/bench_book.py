"""Order book benchmark: the cost of `prepare_new` + `sent`, and where it goes.

Run: `python tests/oms/bench_book.py [--rounds N] [--batch N] [--json]`

The book is first filled with `--preload` orders (a busy day's size), so dict look-ups
and inserts run at a realistic table size, and the loaded state is `gc.freeze()`d as the
engine does after start-up. Each figure is the per-call time of a batch; median and p99
are over `--rounds` batches. The intent log is a real file in a temporary directory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from fixrouter.codec import decode_frame, encode_fields
from fixrouter.events import Accepted
from fixrouter.oms import IntentLog, MemoryIntentLog, Order, OrderBook
from fixrouter.oms.clordid import ClOrdIdGenerator
from fixrouter.oms.intents import encode_new
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.store import MemoryStore

NOW = 1_795_000_000.123


class NullLog:
    """An intent sink that writes nothing: isolates the book's own cost."""

    torn = corrupt = 0

    def write(self, line: bytes) -> None:
        pass

    def records(self) -> list[Any]:
        return []


def requests(tag: str) -> Iterator[NewOrder]:
    n = 0
    while True:
        n += 1
        yield NewOrder("alpha", f"{tag}{n}", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT,
                       price=Decimal("190.25"), account="U1234567")


def book_with(log: Any, preload: int) -> OrderBook:
    book = OrderBook()
    book.add_session("ib", "A", log)
    book.rebuild("ib", MemoryStore(now=NOW))
    for req, _ in zip(requests("pre"), range(preload), strict=False):
        order = book.prepare_new(req, NOW)
        assert isinstance(order, Order)
        book.sent(order)
    return book


def measure(fn: Callable[[], object], rounds: int, batch: int) -> dict[str, float]:
    samples = []
    gc.collect()
    gc.freeze()
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - t0) / batch / 1000)
    gc.unfreeze()
    samples.sort()
    return {"median_us": statistics.median(samples),
            "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--preload", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}

    def prepare_and_send(book: OrderBook, tag: str) -> Callable[[], object]:
        # Requests are built beforehand: constructing them is the gateway's cost.
        reqs = [r for r, _ in zip(requests(tag), range(args.rounds * args.batch),
                                  strict=False)]
        it = iter(reqs)
        prepare, sent = book.prepare_new, book.sent

        def one() -> object:
            return sent(prepare(next(it), NOW))  # type: ignore[arg-type]
        return one

    with tempfile.TemporaryDirectory() as tmp:
        log = IntentLog(os.path.join(tmp, "ib.orders.log"))
        results["prepare_new+sent (file intent log)"] = measure(
            prepare_and_send(book_with(log, args.preload), "f"), args.rounds, args.batch)
        log.close()
    results["prepare_new+sent (no intent write)"] = measure(
        prepare_and_send(book_with(NullLog(), args.preload), "n"), args.rounds, args.batch)

    # The parts, measured alone.
    gen = ClOrdIdGenerator("A")
    req = next(requests("x"))
    line = encode_new(NOW, "260314A-1Z", req)
    results["  ClOrdID next()"] = measure(lambda: gen.next(NOW), args.rounds, args.batch)
    results["  intent encode (orjson)"] = measure(lambda: encode_new(NOW, "260314A-1Z", req),
                                                  args.rounds, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        fd = os.open(os.path.join(tmp, "w"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        results["  intent write(2)"] = measure(lambda: os.write(fd, line), args.rounds,
                                               args.batch)
        os.close(fd)
    results["  Order()"] = measure(lambda: Order(req, "ib", "260314A-1Z"), args.rounds,
                                   args.batch)
    results["  Accepted() event"] = measure(lambda: Accepted("o1", "260314A-1Z"), args.rounds,
                                            args.batch)

    # The inbound side, for scale: an ack and a partial fill on a working order.
    book = book_with(MemoryIntentLog(), args.preload)
    orders = [o for o in book.open_orders()]
    counter = iter(range(10**9))

    def report(exec_type: str, last: str) -> Callable[[], object]:
        def one() -> object:
            n = next(counter)
            order = orders[n % len(orders)]
            msg = decode_frame(encode_fields([
                (35, "8"), (49, "IB"), (56, "ME"), (34, 1), (52, "20261124-10:22:16.123"),
                (37, f"OID{n}"), (11, order.cl_ord_id), (17, f"E{n}"), (20, "0"),
                (150, exec_type), (39, exec_type), (55, "AAPL"), (54, "1"), (38, "100"),
                (32, last), (31, "190.25"), (14, "0"), (151, "100"), (6, "0")]))
            return msg
        return one

    for label, kind, last in [("on_execution_report ack", "0", "0"),
                              ("on_execution_report 1-lot fill", "1", "1")]:
        make = report(kind, last)
        msgs = [make() for _ in range(args.rounds * args.batch)]
        it = iter(msgs)
        results[label] = measure(lambda it=it: book.on_execution_report(next(it)),  # type: ignore[misc]
                                 args.rounds, args.batch)

    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        for label, r in results.items():
            print(f"{label:40s} median {r['median_us']:6.3f} us   p99 {r['p99_us']:6.3f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
