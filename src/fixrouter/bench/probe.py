"""Tick-to-wire inside the engine: from the gateway's line read to the NOS bytes in the kernel.

Theory of operation
-------------------
The two ends of the measurement already exist in the engine, so the probe adds no code
to the order path, only two cheap listeners, installed by the bench and absent otherwise:

* **The tick.** The gateway reads `time.monotonic_ns()` once per socket read and stamps
  it on every request of that read (`NewOrder.received_ns`). The router hands it to
  `OrderFlow.sent_new` right after the session took the order; `BenchFlow` (an
  `OrderFlow` that shares the router's per-session counters, so metrics are unchanged)
  also stores it in the next slot of a preallocated array.
* **The wire.** The transport calls its `wire_tap(True, frame)` for each frame right after
  `transport.write` returned. uvloop writes at once when nothing is queued in libuv, which
  is always the case here, so that is the moment the bytes are in the kernel's send
  buffer. `WireProbe.tap` stamps `time.monotonic_ns()` for each NewOrderSingle frame into
  the next slot of a second array. Orders in one write share nearly one stamp.

The session writes NewOrderSingles in the order the router handed them over, and every
order handed over is written exactly once (no resends in a bench), so the n-th tick and
the n-th wire stamp belong to the same order, whichever is recorded first (the first
order of a loop turn is written inside `send_app`, before `sent_new`; later ones at the
end of the turn; in `fsync` mode after the group commit). Orders the throttle released
later have no tick (0) and are skipped.

The arrays are rings of `capacity` slots, allocated and touched before the run's first
RSS reading: a saturated run keeps its latest `capacity` orders, which is plenty for
percentiles, and recording never allocates. A slot costs 16 bytes (two int64).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from typing import Final

from fixrouter.metrics.flow import OrderFlow, SessionFlow
from fixrouter.oms.order import Order

_NOS: Final = b"\x0135=D\x01"
# `8=FIX.4.2|9=<1-6 digits>|35=D|`: where MsgType's SOH-delimited field can start and end.
_MSG_TYPE_FROM: Final = 9
_MSG_TYPE_TO: Final = 24

WireTap = Callable[[bool, bytes], None]


class WireProbe:
    """Preallocated tick and wire stamps, paired by order. See the module docstring."""

    __slots__ = ("capacity", "mask", "n_tick", "n_wire", "ticks", "wires")

    def __init__(self, capacity: int = 1 << 20) -> None:
        if capacity & (capacity - 1):
            raise ValueError("capacity must be a power of two")
        self.capacity = capacity
        self.mask = capacity - 1
        self.ticks = array("q", bytes(8 * capacity))
        self.wires = array("q", bytes(8 * capacity))
        self.n_tick = 0
        self.n_wire = 0

    def tick(self, received_ns: int) -> None:
        self.ticks[self.n_tick & self.mask] = received_ns
        self.n_tick += 1

    def tap(self, outbound: bool, data: bytes) -> None:
        if outbound and data.find(_NOS, _MSG_TYPE_FROM, _MSG_TYPE_TO) >= 0:
            self.wires[self.n_wire & self.mask] = time.monotonic_ns()
            self.n_wire += 1

    def chained(self, other: WireTap | None) -> WireTap:
        """`tap`, also passing every call on to a tap already installed (the FIX log)."""
        if other is None:
            return self.tap
        tap = self.tap

        def both(outbound: bool, data: bytes) -> None:
            tap(outbound, data)
            other(outbound, data)

        return both

    def mark(self) -> int:
        """The order count now: a run's orders are those after its mark."""
        return max(self.n_tick, self.n_wire)

    def last_wire_ns(self) -> int:
        """When the latest NewOrderSingle was written (0 if none yet)."""
        return self.wires[(self.n_wire - 1) & self.mask] if self.n_wire else 0

    def latencies_ns(self, since: int) -> list[int]:
        """Tick-to-wire of every paired order after `since` (at most `capacity` latest)."""
        end = min(self.n_tick, self.n_wire)
        start = max(since, end - self.capacity)
        ticks, wires, mask = self.ticks, self.wires, self.mask
        out: list[int] = []
        for n in range(start, end):
            tick = ticks[n & mask]
            if tick:
                out.append(wires[n & mask] - tick)
        return out


class BenchFlow(OrderFlow):
    """The router's `OrderFlow`, also handing each order's tick to a `WireProbe`."""

    __slots__ = ("probe",)

    def __init__(self, probe: WireProbe, like: OrderFlow) -> None:
        super().__init__()
        self.probe = probe
        # Share the counters (and the session objects the router's links hold): the
        # router's metrics go on where they were, only through this object.
        self.sessions = like.sessions
        self.tick_to_wire = like.tick_to_wire
        self.exec_to_strategy = like.exec_to_strategy
        self.received = like.received

    def sent_new(self, flow: SessionFlow, order: Order, received_ns: int) -> None:
        OrderFlow.sent_new(self, flow, order, received_ns)
        self.probe.tick(received_ns)
