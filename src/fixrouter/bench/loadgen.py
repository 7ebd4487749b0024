"""The load generator: one strategy on the gateway, writing `new` lines and reading events.

It runs in the bench's helper process (`fixrouter.bench.helper`), on the same uvloop loop
as the benchmark acceptor.

Theory of operation
-------------------
One TCP connection to the gateway, `hello` once. Every order is a limit buy of AAPL on
one account; its id is `o<n>` with `n` counting up for the life of the process, and price
and size cycle through 800 × 100 combinations, so no order repeats another inside the
risk gate's duplicate window at any rate reachable here. Lines are formatted while
sending; that costs this process, not the engine.

Two kinds of run, each a small object fed by the connection's reads (`on_lines`, with
one `time.monotonic_ns()` stamp per read) and by `tick`, which the helper's spinner calls
on every loop iteration while a run is on (or a timer, when the loop may sleep):

* **paced** (`orders`, `rate`, `until`): open loop. Order `i` is due at `start + i/rate`
  and is written as soon as `tick` sees it due, however late the engine answers, so a
  stall shows up as latency instead of being hidden by a slower sender (no coordinated
  omission). Its stamp is taken right before the write (uvloop writes at once). Each
  order's round trip ends at the read that brings its `until` event (`exec` with
  `exec_type` `new`, or `accepted`): those lines are parsed with orjson for their id.
* **burst** (`seconds`, `window`, `until`, optional `orders`): closed loop, as fast as
  the engine goes, with at most `window` orders written and not yet answered, for
  `seconds` or until `orders` have been written. A read that frees a quarter of
  the window (`batch`) refills it in one write. The window keeps the engine saturated
  (there is always a backlog) while bounding its queue, so a read never holds thousands
  of lines and tick-to-wire at saturation measures the engine rather than the size of a
  kernel buffer. Answers are counted with `bytes.count` over whole lines, never parsed. The run
  reports its first send and its last answer. With `until` = `fill` an order is answered
  by its `exec fill` (the acceptor's filled mode): the order finished.

Denials and errors count as answers (so a run ends) and are reported with a sample line,
so a bench that is denied by its own risk limits says so instead of hanging. Time spent
in the handlers is added to `busy_ns`, the load generator's share of the helper's core.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import orjson

from fixrouter.bench.control import Reply
from fixrouter.bench.report import percentiles_us

ORDER = (b'{"op":"new","id":"o%d","symbol":"AAPL","side":"buy","qty":%d,"type":"limit",'
         b'"price":"%b","account":"U1234567"}\n')
PRICES = tuple(b"%d.%02d" % divmod(18_600 + k, 100) for k in range(800))
"""186.00 to 193.99: inside a 5 % collar around the bench's reference price of 190."""
SIZES = 100
MARKERS = {
    "accepted": b'"ev":"accepted"',
    "exec": b'"exec_type":"new"',
    "fill": b'"exec_type":"fill"',
}
_DENIED = b'"ev":"denied"'
_ERROR = b'"ev":"error"'
IDLE_TIMEOUT_NS = 30_000_000_000
"""How long a run waits for the answers still missing after its last send."""


def order_line(n: int) -> bytes:
    return ORDER % (n, 1 + (n // 800) % SIZES, PRICES[n % 800])


class _Run:
    """What paced and burst runs share: answers, failures, the end of the run."""

    def __init__(self, generator: LoadGenerator, until: str) -> None:
        self.gen = generator
        self.marker = MARKERS[until]
        self.base = generator.next_id
        self.sent = 0
        self.answered = 0
        self.failed = 0
        self.samples: list[str] = []
        self.done: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.cpu = time.process_time()

    def on_lines(self, lines: bytes, stamp: int) -> None:
        raise NotImplementedError

    def tick(self, now: int) -> None:
        raise NotImplementedError

    def _failures(self, lines: bytes) -> None:
        if _DENIED in lines or _ERROR in lines:
            self.failed += lines.count(_DENIED) + lines.count(_ERROR)
            if len(self.samples) < 3:
                self.samples.extend(
                    line.decode(errors="replace") for line in lines.split(b"\n")
                    if _DENIED in line or _ERROR in line)
                del self.samples[3:]

    def _finish(self, reply: Reply) -> None:
        if not self.done.done():
            reply.update(sent=self.sent, answered=self.answered, failed=self.failed,
                         samples=self.samples, cpu_s=time.process_time() - self.cpu)
            self.gen.next_id = self.base + self.sent
            self.done.set_result(reply)


class _Paced(_Run):
    def __init__(self, generator: LoadGenerator, orders: int, rate: float, until: str) -> None:
        super().__init__(generator, until)
        self.orders = orders
        self.interval = 1e9 / rate
        self.sent_ns = [0] * orders
        self.rtt_ns = [0] * orders
        self.start = time.monotonic_ns() + 1_000_000
        self.next_due = self.start
        self.deadline = 0

    def tick(self, now: int) -> None:
        if now >= self.next_due and self.sent < self.orders:
            write = self.gen.write
            clock = time.monotonic_ns
            while self.sent < self.orders and self.next_due <= now:
                line = order_line(self.base + self.sent)
                self.sent_ns[self.sent] = clock()
                write(line)
                self.sent += 1
                self.next_due = self.start + int(self.sent * self.interval)
            if self.sent == self.orders:
                self.deadline = clock() + IDLE_TIMEOUT_NS
        elif self.deadline and now > self.deadline:
            self._end()

    def on_lines(self, lines: bytes, stamp: int) -> None:
        marker = self.marker
        if marker in lines:
            base, rtt, sent_ns = self.base, self.rtt_ns, self.sent_ns
            for line in lines.split(b"\n"):
                if marker in line:
                    index = int(orjson.loads(line)["id"][1:]) - base
                    if 0 <= index < self.sent and not rtt[index]:
                        rtt[index] = stamp - sent_ns[index]
                        self.answered += 1
        self._failures(lines)
        if self.answered + self.failed >= self.orders:
            self._end()

    def _end(self) -> None:
        self._finish({
            "first_send_ns": self.sent_ns[0],
            "last_send_ns": self.sent_ns[self.sent - 1] if self.sent else 0,
            "rtt_us": percentiles_us([r for r in self.rtt_ns if r]),
        })


class _Burst(_Run):
    def __init__(self, generator: LoadGenerator, seconds: float, window: int, until: str,
                 batch: int, orders: int = 0) -> None:
        super().__init__(generator, until)
        self.limit = orders  # 0: as many as `seconds` allow
        self.window = window
        self.batch = max(1, min(batch, window))
        self.start = time.monotonic_ns()
        self.end = self.start + int(seconds * 1e9)
        self.last_answer = self.start
        self.sending = True
        self._refill(self.start)

    def _refill(self, now: int) -> None:
        if now >= self.end:
            self.sending = False
            return
        room = self.window - (self.sent - self.answered - self.failed)
        if self.limit:
            if self.sent >= self.limit:
                self.sending = False
                return
            room = min(room, self.limit - self.sent)
        if room >= self.batch or (room > 0 and self.sent + room == self.limit):
            first = self.base + self.sent
            self.gen.write(b"".join([order_line(n) for n in range(first, first + room)]))
            self.sent += room

    def tick(self, now: int) -> None:
        if self.sending:
            self._refill(now)
        elif self.answered + self.failed >= self.sent or now > self.last_answer + \
                IDLE_TIMEOUT_NS:
            self._finish({"first_send_ns": self.start, "last_answer_ns": self.last_answer})

    def on_lines(self, lines: bytes, stamp: int) -> None:
        self.answered += lines.count(self.marker)
        self._failures(lines)
        self.last_answer = stamp
        if self.sending:
            self._refill(stamp)


class _Line(asyncio.Protocol):
    def __init__(self, generator: LoadGenerator) -> None:
        self._generator = generator

    def data_received(self, data: bytes) -> None:
        self._generator.on_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._generator.on_lost(exc)


class LoadGenerator:
    """One strategy connection and its current run. See the module docstring."""

    def __init__(self) -> None:
        self.next_id = 0
        self.busy_ns = 0
        """Time spent in the read handler and in `tick` when it wrote."""
        self.run: _Run | None = None
        self._transport: asyncio.Transport | None = None
        self._partial = b""
        self._welcome: asyncio.Future[bytes] | None = None
        self._lost: BaseException | None = None

    async def connect(self, host: str, port: int, client: str) -> None:
        """Connect and say hello. Raises ConnectionError if the gateway refuses."""
        loop = asyncio.get_running_loop()
        self._welcome = loop.create_future()
        transport, _ = await loop.create_connection(lambda: _Line(self), host, port)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.write(orjson.dumps({"op": "hello", "client": client}) + b"\n")
        welcome = await asyncio.wait_for(self._welcome, 10.0)
        if b'"welcome"' not in welcome:
            raise ConnectionError(f"hello refused: {welcome.decode(errors='replace')}")

    def write(self, data: bytes) -> None:
        if self._transport is None or self._lost is not None:
            raise ConnectionError("not connected to the gateway")
        self._transport.write(data)

    def on_data(self, data: bytes) -> None:
        stamp = time.monotonic_ns()
        if self._partial:
            data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if not cut:
            return
        lines = data[:cut]
        if self._welcome is not None and not self._welcome.done():
            self._welcome.set_result(lines)
            return
        run = self.run
        if run is not None:
            run.on_lines(lines, stamp)
        self.busy_ns += time.monotonic_ns() - stamp

    def on_lost(self, exc: Exception | None) -> None:
        self._lost = exc or ConnectionError("the gateway closed the connection")
        if self._welcome is not None and not self._welcome.done():
            self._welcome.set_exception(self._lost)
        run = self.run
        if run is not None and not run.done.done():
            run.done.set_exception(self._lost)

    def tick(self) -> None:
        run = self.run
        if run is not None:
            now = time.monotonic_ns()
            sent = run.sent
            run.tick(now)
            if run.sent != sent:
                self.busy_ns += time.monotonic_ns() - now

    async def execute(self, command: dict[str, Any]) -> Reply:
        """Run one `paced` or `burst` command to its end. Raises ValueError for others."""
        name = command.get("cmd")
        until = str(command.get("until", "exec"))
        if name == "paced":
            self.run = _Paced(self, int(command["orders"]), float(command["rate"]), until)
        elif name == "burst":
            window = int(command["window"])
            self.run = _Burst(self, float(command["seconds"]), window, until,
                              int(command.get("batch", max(1, window // 4))),
                              int(command.get("orders", 0)))
        else:
            raise ValueError(f"unknown command {name!r}")
        try:
            return await self.run.done
        finally:
            self.run = None
