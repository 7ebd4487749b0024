"""The whole inbound path of an ExecutionReport New, from the FIX socket read to the event
written to its strategy, in one process.

Run: `.venv/bin/python tests/bench/bench_inbound_path.py [--orders N] [--per-read N]`

Everything is the production assembly (`RouterService`: risk gate, order book with its
intent log, IB dialect, session core with the dictionary check, `os`-mode journal, the
asyncio adapter, a gateway connection for the strategy) on uvloop, except the sockets
(`tests/router/bench_router.py`'s fakes). `--orders` orders go out through the strategy's
gateway connection first (so the book holds that many working orders); their ClOrdIDs are
read back from the NewOrderSingle frames, and one ExecutionReport New per order (the
benchmark acceptor's layout) is fed to the FIX transport's data callback, `--per-read` per
read, one read per loop turn. Every report must be accepted by the session and reach the
strategy as an `exec` event. Printed: median and mean time per report over the reads (the
first tenth dropped as warm-up), and the process CPU per report.

Measured 2026-11-24 23:50 UTC, compiled build, 5 runs per tree alternating, 20,000 reports,
8 per read: 11.39 (11.33-11.51) us median per report before the inbound changes of that
evening, 10.34 (10.30-10.43) us after; CPU per report 12.10 -> 10.98 us.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "router"))
from bench_router import CONFIG, Sink, StampingTransport, log_on

from fixrouter.codec import BodyTemplate, Encoder
from fixrouter.gateway.server import _Connection
from fixrouter.routing.service import LoopTimers, RouterService, load

# The benchmark acceptor's ExecutionReport layout (fixrouter.bench.acceptor).
ER = BodyTemplate((37, 11, 17, 20, 150, 39, 55, 54, 38, 32, 31, 151, 14, 6, 60))
_CL_ORD_ID = re.compile(rb"\x0111=([^\x01]*)\x01")


class Capture(StampingTransport):
    """The FIX socket: keeps what the engine writes."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.data.append(data)


class CountingSink(Sink):
    """The strategy's socket: counts the event lines written to it."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, data: bytes) -> None:
        self.lines += data.count(b"\n")


async def run(orders: int, per_read: int) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "router.toml").write_text(CONFIG.format(store=workdir / "store"))
        service = RouterService(load(workdir / "router.toml"))
        loop = asyncio.get_running_loop()
        try:
            router = service.router
            router.timers = LoopTimers(loop)
            router.gate.risk.set_reference("AAPL", Decimal("190"))  # type: ignore[attr-defined]
            fake = Capture()
            log_on(service, loop, fake)
            transport = next(iter(service.engine.sessions.values())).transport
            line = transport._line
            ib = Encoder("IB", "FIXROUTER")
            await asyncio.sleep(0.01)  # the status request after logon goes out first
            sink = CountingSink()
            strategy = _Connection(service.gateway)
            strategy.connection_made(sink)  # type: ignore[arg-type]
            strategy.data_received(b'{"op":"hello","client":"bench"}\n')
            fake.data.clear()
            for i in range(orders):
                # Prices and sizes vary: no order repeats another within the duplicate window.
                price = f"{186 + (i % 800) / 100:.2f}".encode()
                qty = 100 + (i // 800) % 100
                strategy.data_received(
                    b'{"op":"new","id":"o%d","symbol":"AAPL","side":"buy","qty":%d,'
                    b'"type":"limit","price":"%s","account":"U1234567"}\n' % (i, qty, price))
                if i % 64 == 63:
                    await asyncio.sleep(0)
            await asyncio.sleep(0.01)
            cls = [cl for cl in _CL_ORD_ID.findall(b"".join(fake.data)) if cl != b"*"]
            assert len(cls) == orders, f"{len(cls)} of {orders} orders were sent"
            first = transport.session.next_target_seq
            frames = []
            for k, cl in enumerate(cls):
                stamp = ib.timestamp(time.time())
                body = ER.render((b"%d" % k, cl, b"E%dN" % k, b"0", b"0", b"0", b"AAPL", b"1",
                                  b"100", b"0", b"0", b"100", b"0", b"0", stamp))
                frames.append(ib.encode(b"8", first + k, stamp, body))
            reads = [b"".join(frames[i:i + per_read]) for i in range(0, orders, per_read)]
            on_data = transport._on_data
            before = sink.lines
            gc.collect()
            gc.freeze()
            times: list[float] = []
            clock = time.perf_counter_ns
            cpu = time.process_time()
            for data in reads:
                start = clock()
                on_data(line, data)
                times.append((clock() - start) / 1000 / per_read)
                await asyncio.sleep(0)  # the gateway writes its events at the end of a turn
            cpu = time.process_time() - cpu
            gc.unfreeze()
            await asyncio.sleep(0)
            assert transport.session.next_target_seq == first + orders, "a report was refused"
            assert sink.lines - before == orders, "a report did not reach its strategy"
            return times[len(times) // 10:], cpu / orders * 1e6
        finally:
            await service.gateway.close()
            service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--per-read", type=int, default=8)
    args = parser.parse_args()
    times, cpu_us = uvloop.run(run(args.orders, args.per_read))
    print(f"per report: median {statistics.median(times):.2f} us, mean "
          f"{statistics.fmean(times):.2f} us, CPU {cpu_us:.2f} us ({args.orders} reports, "
          f"{args.per_read} per read)")


if __name__ == "__main__":
    main()
