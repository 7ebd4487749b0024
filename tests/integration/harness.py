"""Processes and logs for the integration tests: the real simulator and the real router.

`SimHandle` runs `fixrouter sim` (QuickFIX) and reads what it recorded: its admin status,
its event log (`sim-events.jsonl`) and QuickFIX's own message and event logs.
`RouterProcess` runs `fixrouter run --config ...` as a child process, so it can be sent
SIGTERM or SIGKILL for real. Both are always killed by the fixtures in conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from fixrouter.codec import FixMessage, decode_frame
from fixrouter.sim.admin import send_command
from fixrouter.sim.process import SimulatorProcess, free_port
from fixrouter.store import JournalStore

SENDER = "FIXROUTER"
TARGET = "IB"
SIM_SESSION = "FIX.4.2:IB->FIXROUTER"
_LOG_LINE = re.compile(rb"^\d{8}-\d\d:\d\d:\d\d\.\d+ : (8=FIX.*)$")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class SimHandle:
    """The QuickFIX simulator on a fixed port and data dir; restartable."""

    def __init__(self, data_dir: Path, port: int, extra_args: Sequence[str] = ()) -> None:
        self.data_dir = data_dir
        self.port = port
        self.extra_args = tuple(extra_args)
        self.proc: SimulatorProcess | None = None

    def start(self) -> SimHandle:
        assert self.proc is None or self.proc.proc.poll() is not None
        self.proc = SimulatorProcess(self.data_dir, port=self.port, extra_args=self.extra_args)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()

    # ---- what it recorded ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        reply = send_command(self.data_dir / "admin.sock", {"cmd": "status"})
        assert reply["ok"], reply
        sessions: list[dict[str, Any]] = reply["sessions"]
        (session,) = [s for s in sessions if s["session"] == SIM_SESSION]
        return session

    def admin(self, cmd: str, **fields: Any) -> dict[str, Any]:
        return send_command(self.data_dir / "admin.sock", {"cmd": cmd, **fields})

    def events(self) -> list[dict[str, Any]]:
        path = self.data_dir / "sim-events.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):  # a killed simulator's torn line
                out.append(orjson.loads(line))
        return out

    def quickfix_events(self) -> str:
        """QuickFIX's session event log(s), every run so far."""
        return "\n".join(
            p.read_text(errors="replace") for p in sorted((self.data_dir / "log").glob("*event*"))
        )

    def messages(self, sender: str | None = None) -> list[FixMessage]:
        """Every message in QuickFIX's message log, in and out, optionally by SenderCompID."""
        out: list[FixMessage] = []
        for path in sorted((self.data_dir / "log").glob("FIX.4.2-*messages*")):
            for line in path.read_bytes().splitlines():
                m = _LOG_LINE.match(line)
                if m is None:
                    continue
                try:
                    message = decode_frame(m.group(1))
                except Exception:
                    continue  # a torn line
                if sender is None or message.get(49) == sender.encode():
                    out.append(message)
        return out

    def seqnums(self) -> tuple[int, int]:
        """QuickFIX's (next sender, next target) numbers from its FileStore.

        Read from the file rather than the admin status, whose reply lists every order and
        outgrows the admin channel's line limit after a few thousand.
        """
        path = self.data_dir / "store" / "FIX.4.2-IB-FIXROUTER.seqnums"
        sender, target = path.read_text().split(" : ")
        return int(sender), int(target)

    def set_expected_from_router(self, seq: int) -> None:
        """Make the (stopped) simulator expect `seq` next from us: QuickFIX lost messages."""
        assert self.proc is None or self.proc.proc.poll() is not None, "stop the sim first"
        path = self.data_dir / "store" / "FIX.4.2-IB-FIXROUTER.seqnums"
        sender, _target = path.read_text().split(" : ")
        path.write_text(f"{sender} : {seq:020d}")


class RouterProcess:
    """`fixrouter run` as a child process, with its stderr log in a file."""

    def __init__(self, workdir: Path, config: Path, *, feed: Path | None = None,
                 feed_rate: float = 0.0, feed_session: str | None = None,
                 crash_after: int = 0, tag: str = "router") -> None:  # fmt: skip
        self.log_path = workdir / f"{tag}.log"
        args = [sys.executable, "-m", "fixrouter.cli", "run", "--config", str(config)]
        if feed is not None:
            args += ["--test-feed", str(feed), "--test-feed-rate", str(feed_rate)]
        if feed_session is not None:
            args += ["--test-feed-session", feed_session]
        if crash_after:
            args += ["--test-crash-after", str(crash_after)]
        with self.log_path.open("ab") as log:
            self._log_start = log.tell()
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                                         cwd=workdir)  # fmt: skip

    def log(self) -> str:
        with self.log_path.open("rb") as f:
            f.seek(self._log_start)
            return f.read().decode(errors="replace")

    def wait_log(self, text: str, timeout: float = 15.0, count: int = 1) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None and self.log().count(text) < count:
                raise AssertionError(f"router exited with {self.proc.returncode}:\n{self.log()}")
            return self.log().count(text) >= count

        wait_until(seen, timeout, f"{text!r} x{count} in the router log:\n{self.log()[-3000:]}")

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM (clean logout) and wait for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


def write_config(path: Path, port: int, store: Path, *, heartbeat: int = 30,
                 durability: str = "os", extra: str = "", gateway_port: int | None = None,
                 tables: str = "", metrics: str | None = "127.0.0.1:0") -> Path:  # fmt: skip
    """A one-session router config. `extra` goes into [session]; `tables` after it. The
    gateway listens on `gateway_port` (default: a free port, so routers in parallel test
    runs never fight over the default 7001), and /metrics on `metrics` (default: any free
    port, for the same reason; None leaves [metrics] out, e.g. for `tables` to set it)."""
    gateway_port = gateway_port or free_port()
    if metrics is not None:
        tables = f'[metrics]\nlisten = "{metrics}"\n{tables}'
    path.write_text(
        f"""\
[session]
SenderCompID = "{SENDER}"
TargetCompID = "{TARGET}"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {port}
HeartBtInt = {heartbeat}
FileStorePath = "{store}"
Durability = "{durability}"
ReconnectInterval = 0.2
MaxReconnectInterval = 1
LogoutTimeout = 2
{extra}

[gateway]
listen = ["tcp://127.0.0.1:{gateway_port}"]
{tables}
"""
    )
    return path


def write_feed(path: Path, ids: Iterable[str]) -> Path:
    """NewOrderSingles the default scenario fills at once (limit 100 = its reference price)."""
    lines = [
        f"35=D|11={cl}|1=U1234567|21=2|55=AAPL|54=1|38=100|40=2|44=100|59=0|"
        f"60=20240101-00:00:00.000|100=SMART|15=USD|167=STK"
        for cl in ids
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def journal_seqs(store_dir: Path) -> tuple[int, int]:
    """(next_sender_seq, next_target_seq) from the router's journal (router stopped)."""
    with JournalStore(store_dir / f"FIX.4.2-{SENDER}-{TARGET}", now=time.time()) as store:
        return store.next_sender_seq, store.next_target_seq


def set_journal_next_target(store_dir: Path, seq: int) -> None:
    """Make the (stopped) router expect `seq` next from IB, as if it had lost messages."""
    with JournalStore(store_dir / f"FIX.4.2-{SENDER}-{TARGET}", now=time.time()) as store:
        store.set_next_target_seq(seq)


def order_events(sim: SimHandle, ids: Sequence[str] | None = None) -> dict[str, list[str]]:
    """ClOrdID -> the simulator's actions for each inbound NewOrderSingle carrying it."""
    actions: dict[str, list[str]] = {}
    for e in sim.events():
        if e.get("dir") == "in" and e.get("msg_type") == "D":
            actions.setdefault(e["cl_ord_id"], []).append(e["action"])
    if ids is not None:
        for cl in ids:
            actions.setdefault(cl, [])
    return actions
