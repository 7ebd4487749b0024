"""`fixrouter demo`: the simulator and a scripted client, end to end, on free ports.

Until the engine's order path lands (issue 4: gateway, order book, IB dialect), the demo
drives the QuickFIX simulator with a scripted FIX client built on fixrouter's own codec.
It shows what the simulator does with a full fill, partial fills, a cancel, a replace, an
IB-style reject and a cancel of an unknown order, prints one line per case, and exits 0
only when every outcome is the expected one. The simulator runs as a child process and is
always stopped; the working directory is temporary and removed.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fixrouter.codec import Encoder, FixMessage, FrameDecoder, Garbled, render_fields
from fixrouter.sim.process import SimulatorProcess

SCENARIO = """\
description = "fixrouter demo"

[default]
behaviour = "fill"
reference_price = "100"

[symbols.AAPL]
reference_price = "190"

[symbols.MSFT]
behaviour = "partial"
partials = 3
interval_ms = 20
reference_price = "400"

[symbols.IBM]
behaviour = "rest"
reference_price = "250"
"""

REPLY_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    expected: str
    run: Callable[[DemoClient], str]


class DemoClient:
    """A minimal blocking FIX initiator: enough for a scripted, seconds-long demo.

    It is not the engine's session layer (no resend, no persistence): it exists only so
    the demo can show the simulator before the engine's order path is wired.
    """

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._encoder = Encoder("FIXROUTER", "IB")
        self._decoder = FrameDecoder()
        self._seq = 1
        self._inbox: list[FixMessage] = []
        self._order = 0

    def send(self, msg_type: bytes, fields: list[tuple[int, str | int]]) -> None:
        frame = self._encoder.encode(
            msg_type, self._seq, self._encoder.timestamp(time.time()), render_fields(fields)
        )
        self._seq += 1
        self._sock.sendall(frame)

    def wait_for(self, accept: Callable[[FixMessage], bool]) -> FixMessage:
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            for i, message in enumerate(self._inbox):
                if accept(message):
                    return self._inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no expected reply from the simulator")
            self._sock.settimeout(left)
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionError("simulator closed the connection")
            for result in self._decoder.feed(data):
                if isinstance(result, Garbled):
                    raise ConnectionError(f"garbled message from simulator: {result.detail}")
                if result.msg_type == b"1":  # TestRequest: stay alive
                    self.send(b"0", [(112, result.get_str(112) or "")])
                elif result.msg_type != b"0":
                    self._inbox.append(result)

    def logon(self) -> None:
        self.send(b"A", [(98, 0), (108, 30), (141, "Y")])
        self.wait_for(lambda m: m.msg_type == b"A")

    def logout(self) -> None:
        self.send(b"5", [])
        try:
            self.wait_for(lambda m: m.msg_type == b"5")
        finally:
            self._sock.close()

    def new_id(self) -> str:
        self._order += 1
        return f"DEMO{int(time.time())}-{self._order}"

    def new_order(self, symbol: str, side: str, qty: int, price: str) -> str:
        cl_ord_id = self.new_id()
        self.send(b"D", [
            (11, cl_ord_id), (1, "U1234567"), (21, "2"), (55, symbol), (54, side),
            (38, qty), (40, "2"), (44, price), (59, "0"), (60, self.now_text()), (100, "SMART"),
            (15, "USD"), (167, "STK"),
        ])
        return cl_ord_id

    def report(self, cl_ord_id: str, status: bytes) -> FixMessage:
        key = cl_ord_id.encode()
        return self.wait_for(
            lambda m: m.msg_type == b"8" and m.get(11) == key and m.get(39) == status
        )

    def now_text(self) -> str:
        return self._encoder.timestamp(time.time()).decode()


def _full_fill(client: DemoClient) -> str:
    order = client.new_order("AAPL", "1", 100, "190")
    client.report(order, b"0")
    fill = client.report(order, b"2")
    return f"filled {fill.get_str(14)} @ {fill.get_str(31)}"


def _partial_fills(client: DemoClient) -> str:
    order = client.new_order("MSFT", "1", 300, "400")
    client.report(order, b"0")
    partials = [client.report(order, b"1") for _ in range(2)]
    final = client.report(order, b"2")
    sizes = [m.get_str(32) for m in [*partials, final]]
    return f"{len(sizes)} fills {'+'.join(s or '?' for s in sizes)} = {final.get_str(14)}"


def _cancel(client: DemoClient) -> str:
    order = client.new_order("IBM", "1", 50, "250")
    client.report(order, b"0")
    cancel_id = client.new_id()
    client.send(b"F", [(41, order), (11, cancel_id), (55, "IBM"), (54, "1"), (38, 50),
                       (60, client.now_text())])
    canceled = client.report(cancel_id, b"4")
    return f"canceled, leaves {canceled.get_str(151)}"


def _replace(client: DemoClient) -> str:
    order = client.new_order("IBM", "2", 20, "251")
    client.report(order, b"0")
    replace_id = client.new_id()
    client.send(b"G", [
        (41, order), (11, replace_id), (21, "2"), (55, "IBM"), (54, "2"), (38, 40),
        (40, "2"), (44, "252"), (60, client.now_text()), (100, "SMART"),
    ])
    replaced = client.wait_for(
        lambda m: m.msg_type == b"8" and m.get(11) == replace_id.encode() and m.get(150) == b"5"
    )
    return f"replaced: qty {replaced.get_str(38)} @ {replaced.get_str(44)}"


def _ib_reject(client: DemoClient) -> str:
    order = client.new_order("AAPL", "1", 100, "250")  # 31% through the reference
    rejected = client.report(order, b"8")
    return f"rejected: {rejected.get_str(58)}"


def _cancel_unknown(client: DemoClient) -> str:
    cancel_id = client.new_id()
    client.send(b"F", [(41, "NO-SUCH-ORDER"), (11, cancel_id), (55, "IBM"), (54, "1"),
                       (38, 1), (60, client.now_text())])
    reject = client.wait_for(lambda m: m.msg_type == b"9" and m.get(11) == cancel_id.encode())
    return f"cancel rejected: {reject.get_str(58)}"


CASES = [
    Case("full fill", "filled", _full_fill),
    Case("partial fills", "3 fills", _partial_fills),
    Case("cancel", "canceled", _cancel),
    Case("replace", "replaced", _replace),
    Case("IB reject", "rejected", _ib_reject),
    Case("cancel unknown order", "cancel rejected", _cancel_unknown),
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true",
                        help="keep the working directory (simulator logs) and print its path")


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fixrouter-demo-"))
    print("fixrouter demo: QuickFIX simulator playing IB, driven by a scripted FIX client")
    print("(the engine's order path arrives with issue 4; then the demo runs through it)\n")
    failures = 0
    try:
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        with SimulatorProcess(workdir / "sim", scenario=scenario) as sim:
            print(f"simulator listening on 127.0.0.1:{sim.port}\n")
            client = DemoClient(sim.port)
            client.logon()
            print(f"{'case':24} {'result':6}  detail")
            for case in CASES:
                try:
                    detail = case.run(client)
                    ok = detail.startswith(case.expected)
                except (TimeoutError, ConnectionError) as error:
                    detail, ok = f"{type(error).__name__}: {error}", False
                failures += not ok
                print(f"{case.name:24} {'ok' if ok else 'FAIL':6}  {detail}")
            client.logout()
    finally:
        if args.keep:
            print(f"\nworking directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{len(CASES) - failures} of {len(CASES)} cases as expected")
    return 0 if failures == 0 else 1
