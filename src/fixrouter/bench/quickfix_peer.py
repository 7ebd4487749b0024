"""The QuickFIX peer: the same workload sent by QuickFIX's C++ initiator, driven from Python.

Run as its own process (`python -m fixrouter.bench.quickfix_peer --port P --dir D`);
`fixrouter bench --peer quickfix` starts it after fixrouter's own runs, pins it to the
engine's core, and sends it the same commands as the load generator.

Theory of operation
-------------------
This is how a Python shop sends orders without fixrouter: the quickfix binding's
`SocketInitiator` with a `FileStore` (every sent message written to the store file
before it goes out, QuickFIX's own durability; no `fsync`, so it compares with
fixrouter's `os` durability), the FIX 4.2 dictionary fixrouter uses for validation of
what comes back, and no message log (fixrouter's bench runs without its FIX log either).
It logs on to the benchmark acceptor as QFBENCH -> IB.

Each order is the same limit buy fixrouter sends for a `new` line: the strategy has the
order as Python values, builds a `quickfix.Message` field by field and calls
`Session.sendToTarget`. QuickFIX writes the frame to the store and then to the socket
inside that call (its socket connection sends at once when nothing is queued), so the
time from "have the values" to the return of `sendToTarget` is QuickFIX's tick-to-wire,
the counterpart of fixrouter's line read to NOS written (which includes parsing the JSON
line). Execution reports arrive on QuickFIX's socket thread in `fromApp`; the round trip
ends when `fromApp` sees ExecType New for the order.

Runs mirror the load generator's (`fixrouter.bench.loadgen`): **paced** (open loop at a
rate, `time.sleep` to each due time), **burst** `until=exec` (as fast as possible with a
window of unanswered orders, as for fixrouter) and **burst** `until=sent` (as fast as
possible, nothing awaited: the one-way run into the sink, whose rate the controller takes
from the acceptor's count).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import quickfix as fix

from fixrouter.bench.control import Command, Reply, pin_to_cpu, serve_blocking
from fixrouter.bench.report import percentiles_us
from fixrouter.dictionary.loader import default_dictionary_path

SENDER = "QFBENCH"
TARGET = "IB"
SETTINGS = """\
[DEFAULT]
ConnectionType=initiator
SocketConnectHost={host}
SocketConnectPort={port}
SocketNodelay=Y
FileStorePath={store}
HeartBtInt=30
ReconnectInterval=1
NonStopSession=Y
ResetOnLogon=Y
UseDataDictionary=Y
DataDictionary={dictionary}
ValidateUserDefinedFields=N
AllowUnknownMsgFields=Y

[SESSION]
BeginString=FIX.4.2
SenderCompID={sender}
TargetCompID={target}
"""
_PRICES = tuple(f"{186 + k / 100:.2f}" for k in range(800))


class _App(fix.Application):  # type: ignore[misc]
    """QuickFIX's callbacks. Every one traps everything: an exception escaping to SWIG
    would end the process."""

    def __init__(self) -> None:
        super().__init__()
        self.logged_on = threading.Event()
        self.session_id: Any = None
        self.base = 0
        self.sent_ns: list[int] = []
        self.rtt_ns: list[int] = []
        self.answered = 0
        self.waiting = False
        self.cond = threading.Condition()

    def onCreate(self, session_id: Any) -> None:
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:
        self.logged_on.set()

    def onLogout(self, session_id: Any) -> None:
        self.logged_on.clear()

    def toAdmin(self, message: Any, session_id: Any) -> None:
        pass

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        pass

    def toApp(self, message: Any, session_id: Any) -> None:
        pass

    def fromApp(self, message: Any, session_id: Any) -> None:
        try:
            stamp = time.monotonic_ns()
            if message.getField(150) != "0":
                return
            index = int(message.getField(11)[1:]) - self.base
            sent = self.sent_ns
            if 0 <= index < len(sent) and sent[index] and not self.rtt_ns[index]:
                self.rtt_ns[index] = stamp - sent[index]
            self.answered += 1
            if self.waiting:
                with self.cond:
                    self.cond.notify()
        except Exception as e:  # never let it reach SWIG
            print(f"fromApp: {e!r}", file=sys.stderr)


class QuickFixPeer:
    """One QuickFIX initiator session and the runs it is asked for."""

    def __init__(self, host: str, port: int, workdir: Path) -> None:
        cfg = workdir / "quickfix-initiator.cfg"
        cfg.write_text(SETTINGS.format(
            host=host, port=port, store=workdir / "qf-store",
            dictionary=default_dictionary_path(), sender=SENDER, target=TARGET))
        self.app = _App()
        self._settings = fix.SessionSettings(str(cfg))
        self._store = fix.FileStoreFactory(self._settings)
        self.initiator = fix.SocketInitiator(self.app, self._store, self._settings)
        self.initiator.start()
        if not self.app.logged_on.wait(20.0):
            raise ConnectionError("QuickFIX initiator did not log on within 20 s")
        self.next_id = 0

    def _order(self, n: int) -> Any:
        msg = fix.Message()
        header = msg.getHeader()
        header.setField(fix.BeginString("FIX.4.2"))
        header.setField(fix.MsgType("D"))
        msg.setField(fix.ClOrdID(f"o{n}"))
        msg.setField(fix.Account("U1234567"))
        msg.setField(fix.HandlInst("2"))
        msg.setField(fix.Symbol("AAPL"))
        msg.setField(fix.Side(fix.Side_BUY))
        msg.setField(fix.TransactTime())
        msg.setField(fix.OrderQty(1 + (n // 800) % 100))
        msg.setField(fix.OrdType(fix.OrdType_LIMIT))
        msg.setField(fix.Price(float(_PRICES[n % 800])))
        msg.setField(fix.TimeInForce(fix.TimeInForce_DAY))
        msg.setField(fix.ExDestination("SMART"))
        msg.setField(fix.Currency("USD"))
        msg.setField(fix.SecurityType("CS"))
        return msg

    def _start_run(self, tracked: int) -> int:
        """Reset the answer counters; round trips are kept for the first `tracked`."""
        app = self.app
        base = self.next_id
        app.base = base
        app.sent_ns = [0] * tracked
        app.rtt_ns = [0] * tracked
        app.answered = 0
        return base

    def paced(self, orders: int, rate: float) -> Reply:
        app = self.app
        base = self._start_run(orders)
        self.next_id += orders
        path_ns = [0] * orders
        interval = 1e9 / rate
        clock = time.monotonic_ns
        send = fix.Session.sendToTarget
        session_id = app.session_id
        cpu = time.process_time()
        start = clock() + 1_000_000
        for i in range(orders):
            wait = start + int(i * interval) - clock()
            if wait > 0:
                time.sleep(wait / 1e9)
            t0 = clock()
            app.sent_ns[i] = t0
            send(self._order(base + i), session_id)
            path_ns[i] = clock() - t0
        deadline = time.monotonic() + 30.0
        while app.answered < orders and time.monotonic() < deadline:
            time.sleep(0.005)
        return {
            "sent": orders,
            "answered": app.answered,
            "send_path_us": percentiles_us(path_ns),
            "rtt_us": percentiles_us([r for r in app.rtt_ns if r]),
            "cpu_s": time.process_time() - cpu,
        }

    def burst(self, seconds: float, window: int, until: str) -> Reply:
        app = self.app
        base = self._start_run(0)
        clock = time.monotonic_ns
        send = fix.Session.sendToTarget
        session_id = app.session_id
        cond = app.cond
        awaited = until == "exec"
        path: list[int] = []
        cpu = time.process_time()
        start = clock()
        end = start + int(seconds * 1e9)
        sent = 0
        while True:
            now = clock()
            if now >= end:
                break
            if awaited and sent - app.answered >= window:
                with cond:
                    app.waiting = True
                    while sent - app.answered >= window:
                        cond.wait(0.05)
                    app.waiting = False
                continue
            t0 = clock()
            send(self._order(base + sent), session_id)
            path.append(clock() - t0)
            sent += 1
        self.next_id += sent
        last = last_send = clock()
        if awaited:
            deadline = time.monotonic() + 30.0
            seen = app.answered
            while app.answered < sent and time.monotonic() < deadline:
                time.sleep(0.0005)
                if app.answered != seen:
                    seen = app.answered
                    last = clock()
        return {
            "sent": sent,
            "answered": app.answered if awaited else 0,
            "failed": 0,
            "first_send_ns": start,
            "last_send_ns": last_send,
            "last_answer_ns": last,
            "send_path_us": percentiles_us(path),
            "cpu_s": time.process_time() - cpu,
        }

    def handle(self, command: Command) -> Reply:
        name = command.get("cmd")
        if name == "paced":
            return self.paced(int(command["orders"]), float(command["rate"]))
        if name == "burst":
            return self.burst(float(command["seconds"]), int(command["window"]),
                              str(command.get("until", "exec")))
        if name == "stats":
            return {"cpu_s": time.process_time(), "now_ns": time.monotonic_ns()}
        raise ValueError(f"unknown command {name!r}")

    def stop(self) -> None:
        self.initiator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fixrouter.bench.quickfix_peer",
                                     description="the QuickFIX initiator peer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="work directory")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args(argv)
    pin_to_cpu(args.cpu)
    peer = QuickFixPeer(args.host, args.port, args.dir)
    sys.stdout.buffer.write(orjson.dumps({"ready": True}) + b"\n")
    sys.stdout.buffer.flush()
    try:
        serve_blocking(peer.handle)
    finally:
        peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
