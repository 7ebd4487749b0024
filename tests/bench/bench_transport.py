"""Transport benchmark: orders through the real session, journal and asyncio adapter.

Run: `python tests/bench/bench_transport.py [--orders N] [--rate R] [--mode os|fsync|both]`

A sink process on loopback answers the Logon and then reads and counts frames. The router
side is the production path without a gateway: `SessionTransport.send_app` on uvloop, the
sans-I/O `Session`, a `JournalStore` in a temporary directory. Figures, per durability:

* **saturated**: `--orders` NewOrderSingles handed over `--batch` per loop turn as fast
  as the loop allows; the rate counts until the sink has read the last one. In fsync mode
  this is the group commit's throughput: orders arriving during a sync wait for the next.
* **paced**: one order every 1/`--rate` s; latency from `send_app` to the `write` of its
  bytes to the socket (the moment it may leave: after its journal record, and in fsync
  mode after the fdatasync covering it). Median and p99 in microseconds.

The journal's own figures (append latency, fdatasync cost) are in bench_journal.py.

Measured on the 2-core development machine (`--orders 50000 --seconds 2`, the sink
sharing the machine), send_app to socket write:

    mode   saturated       median/p99 under saturation   paced 2000/s median/p99
    os     ~250k orders/s  180 / 365 us (100-order turns)   7 / 45 us
    fsync  ~190k orders/s  1.8 / 9 ms                       280 / 550-900 us (one fdatasync)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import socket
import statistics
import tempfile
import time
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path

import uvloop

from fixrouter.codec import Encoder, FrameDecoder, render_fields
from fixrouter.session import Session, SessionConfig
from fixrouter.store import Durability, JournalStore
from fixrouter.transport import Endpoint, ReconnectPolicy, SessionTransport, TransportSettings

ORDER = b"11=%d\x011=U1234567\x0121=2\x0155=AAPL\x0154=1\x0138=100\x0140=2\x0144=100\x0159=0\x01"
FRAME_END = b"\x0110="


def sink(pipe: Connection) -> None:
    """Accept one connection, answer its Logon, count frames; report the time at which the
    cumulative count reaches each target the pipe sends (None ends it)."""
    server = socket.create_server(("127.0.0.1", 0))
    pipe.send(server.getsockname()[1])
    conn, _ = server.accept()
    decoder = FrameDecoder()
    buf = b""
    while True:  # the Logon
        buf += conn.recv(65536)
        frames = decoder.feed(buf)
        buf = b""
        if frames:
            break
    encoder = Encoder("IB", "FIXROUTER")
    conn.sendall(
        encoder.encode(b"A", 1, encoder.timestamp(time.time()), render_fields([(98, 0), (108, 30)]))
    )
    seen = 0  # frames after the Logon, cumulative
    tail = b""
    target: int | None = None
    while True:
        while pipe.poll():
            target = pipe.recv()
            if target is None:
                return
        if target is not None and seen >= target:
            pipe.send(time.monotonic_ns())
            target = None
            continue
        data = conn.recv(1 << 20)
        if not data:
            return
        chunk = tail + data
        seen += chunk.count(FRAME_END)
        tail = b"" if chunk.endswith(FRAME_END) else chunk[-3:]


class TimedWrites:
    """Wraps the socket transport; stamps each order when its bytes are written."""

    def __init__(self, inner: asyncio.Transport, sent: deque[int], out: list[int]) -> None:
        self.inner = inner
        self.sent = sent
        self.out = out

    def write(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        for _ in range(data.count(b"\x0135=D\x01")):
            self.out.append(now - self.sent.popleft())
        self.inner.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def bench(mode: Durability, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=sink, args=(child,), daemon=True)
    proc.start()
    port = parent.recv()
    store = JournalStore(workdir / f"bench-{mode.value}", now=time.time(), durability=mode)
    config = SessionConfig(sender_comp_id="FIXROUTER", target_comp_id="IB")
    endpoint = Endpoint("127.0.0.1", port)
    transport = SessionTransport(
        "bench",
        Session(config, store),
        store,
        TransportSettings(endpoints=(endpoint,)),
        policy=ReconnectPolicy([endpoint], base=1.0, cap=1.0, jitter=0.0),
    )
    task = asyncio.create_task(transport.run())
    while not transport.logged_on:
        await asyncio.sleep(0.001)
    line = transport._line
    assert line is not None and line.transport is not None
    sent: deque[int] = deque()
    latencies: list[int] = []
    line.transport = TimedWrites(line.transport, sent, latencies)  # type: ignore[assignment]
    clock = time.perf_counter_ns
    order_id = 0

    # Saturated.
    parent.send(args.orders)
    started = time.monotonic_ns()
    for _ in range(args.orders // args.batch):
        for _ in range(args.batch):
            order_id += 1
            sent.append(clock())
            transport.send_app(b"D", ORDER % order_id)
        await asyncio.sleep(0)
    done = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
    saturated = args.orders / ((done - started) / 1e9)
    sat_lat = sorted(latencies)
    latencies.clear()

    # Paced.
    paced = max(1, int(args.rate * args.seconds))
    parent.send(args.orders + paced)
    interval = 1.0 / args.rate
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    for _ in range(paced):
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        order_id += 1
        sent.append(clock())
        transport.send_app(b"D", ORDER % order_id)
    await loop.run_in_executor(None, parent.recv)
    paced_lat = sorted(latencies)

    parent.send(None)
    await transport.stop()
    await task
    store.close()
    proc.join(5)

    def q(samples: list[int], p: float) -> float:
        return samples[min(len(samples) - 1, int(len(samples) * p))] / 1000.0

    return {
        "mode": mode.value,
        "saturated_orders_per_s": round(saturated),
        "saturated_median_us": round(statistics.median(sat_lat) / 1000.0, 1),
        "saturated_p99_us": round(q(sat_lat, 0.99), 1),
        "paced_rate_per_s": args.rate,
        "paced_median_us": round(statistics.median(paced_lat) / 1000.0, 1),
        "paced_p99_us": round(q(paced_lat, 0.99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="orders per loop turn")
    parser.add_argument("--rate", type=float, default=2000.0, help="paced orders per second")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the paced run")
    parser.add_argument("--mode", choices=("os", "fsync", "both"), default="both")
    parser.add_argument("--dir", type=Path, help="journal directory (default: a temp dir)")
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-transport-"))
    try:
        modes = (
            [Durability.OS, Durability.FSYNC] if args.mode == "both" else [Durability(args.mode)]
        )
        for mode in modes:
            print(json.dumps(uvloop.run(bench(mode, args, workdir))))
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
