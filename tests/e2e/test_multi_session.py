"""Two FIX sessions in one engine, end to end (issue 8): routing, isolation, failover, recovery.

The engine holds `desk1` (SenderCompID DESK1) and `desk2` (DESK2), both to `IB`. The
shared stack runs one simulator process accepting both CompIDs, which is what a firm's
two CTCI lines look like from IB's side. Tests that must silence, kill or restart one
counterparty get a private stack with one simulator process per session, so SIGSTOP and
SIGKILL hit one session's counterparty only.

Routing in the shared stack: account U2222222 -> desk2, account U1111111 and the strategies
`ms-listed`, `ms-cancel` -> desk1, and `default_session = []`, so an order nothing matches is denied
`NO_ROUTE`. Which refusal is which, precisely:

* `NO_ROUTE`: `[routing]` has no session for the order. Permanent; don't retry.
* `ENGINE_UNAVAILABLE` ("FIX session desk2 is not logged on"): the route's session is down
  and failover is off (or every session of the route is down). Transient.

Latency in the isolation test is one strategy's round trip (new -> filled) on desk1,
median of each phase, against a bound generous enough for a noisy 2-core machine (3x +
2 ms): the point is that desk1 is never blocked for seconds by desk2's trouble.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.client import Accepted, CancelRejected, Denied, Execution, SessionChanged
from fixrouter.codec import FixMessage
from fixrouter.sim.process import free_port
from fixrouter.store import JournalStore
from integration.harness import RouterProcess, SimHandle, wait_until
from metrics.kit import scrape_url, value

from .conftest import (
    DONE,
    RISK,
    SCENARIO,
    TIMEOUT,
    Strategy,
    cleanup_workdir,
    make_workdir,
)

pytestmark = pytest.mark.integration

DESKS = {"desk1": "DESK1", "desk2": "DESK2"}
U1, U2 = "U1111111", "U2222222"

SHARED_ROUTING = f"""
[routing]
default_session = []
[routing.accounts]
{U1} = "desk1"
{U2} = "desk2"
[routing.strategies]
ms-listed = "desk1"
ms-cancel = "desk1"
"""


class Line:
    """A TCP relay between the engine and one simulator, which a test can hold down.

    While held, the relay does not listen, so the engine's reconnects are refused as a
    dead line refuses them, while the simulator (and its book of working orders) lives
    on. Connections already relayed are untouched: the simulator's `drop` cuts those.
    Only a test helper: one thread per direction per connection.
    """

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._listen()

    def _listen(self) -> None:
        threading.Thread(target=self._accept, args=(self._server,), daemon=True,
                         name="line").start()

    def hold(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()

    def release(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR
        self._listen()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # held or closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target), timeout=5)
            except OSError:
                conn.close()
                continue
            upstream.settimeout(None)
            self._sockets += [conn, upstream]
            for src, dst in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for end in (src, dst):  # either side closing closes the line
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.hold()
        for end in self._sockets:
            end.close()


class TwoSessions:
    """Simulator(s) and one engine holding desk1 and desk2; `stop()` kills them all.

    `split`: one simulator process per session (else one process with both CompIDs).
    `lines`: sessions whose connection goes through a `Line` the test can hold down.
    """

    def __init__(self, workdir: Path, routing: str, *, split: bool,
                 lines: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.routing = routing
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        args = ["--scenario", str(scenario)]
        if split:
            self.sims = {name: SimHandle(workdir / f"sim-{name}", free_port(),
                                         [*args, "--target-comp-id", comp])
                         for name, comp in DESKS.items()}
        else:
            one = SimHandle(workdir / "sim", free_port(),
                            [*args, *(a for c in DESKS.values() for a in ("--target-comp-id", c))])
            self.sims = dict.fromkeys(DESKS, one)
        self.engines: list[RouterProcess] = []
        self.strategies: list[Strategy] = []
        self.lines: dict[str, Line] = {}
        self.gateway_port = free_port()
        self.url = f"tcp://127.0.0.1:{self.gateway_port}"
        self.metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        try:
            for sim in {id(s): s for s in self.sims.values()}.values():
                sim.start()
            self.lines = {name: Line(self.sims[name].port) for name in lines}
            self.config = self.write_config(routing)
            self.start_engine()
        except BaseException:
            self.stop()
            raise

    def write_config(self, routing: str) -> Path:
        sessions = "".join(f"""
[[sessions]]
name = "{name}"
SenderCompID = "{comp}"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {self.lines[name].port if name in self.lines else self.sims[name].port}
HeartBtInt = 5
FileStorePath = "{self.workdir / 'store' / name}"
ReconnectInterval = 0.2
MaxReconnectInterval = 0.5
LogoutTimeout = 2
""" for name, comp in DESKS.items())
        path = self.workdir / "router.toml"
        path.write_text(f"""{sessions}
[gateway]
listen = ["{self.url}"]

[metrics]
listen = "{self.metrics_url.removeprefix('http://').removesuffix('/metrics')}"

[admin]
socket = "{self.workdir / 'admin.sock'}"
{RISK}
{routing}
""")
        return path

    def start_engine(self, up: tuple[str, ...] = tuple(DESKS)) -> RouterProcess:
        """Start `fixrouter run`; ready once each session in `up` has logged on."""
        engine = RouterProcess(self.workdir, self.config, tag="engine")
        self.engines.append(engine)
        for name in up:
            engine.wait_log(f"{name}: asked IB for every open order")
        return engine

    @property
    def engine(self) -> RouterProcess:
        return self.engines[-1]

    def strategy(self, name: str) -> Strategy:
        strategy = Strategy(self.url, name)
        self.strategies.append(strategy)
        return strategy

    def wire(self, session: str, cl_ord_id: str, msg_type: bytes = b"D") -> FixMessage:
        """The message `session`'s counterparty received with this ClOrdID."""
        found: list[FixMessage] = []

        def logged() -> bool:
            found[:] = self.received(session, msg_type, cl_ord_id)
            return bool(found)

        wait_until(logged, TIMEOUT, f"35={msg_type.decode()} 11={cl_ord_id} on {session}")
        return found[0]

    def received(self, session: str, msg_type: bytes, cl_ord_id: str) -> list[FixMessage]:
        return [m for m in self.sims[session].messages(DESKS[session])
                if m.msg_type == msg_type and m.get_str(11) == cl_ord_id]

    def signal_sim(self, session: str, signum: int) -> None:
        proc = self.sims[session].proc
        assert proc is not None
        os.kill(proc.proc.pid, signum)

    def sim_seqnums(self, session: str) -> tuple[int, int]:
        """The simulator's (next it sends, next it expects) for `session`, from its store."""
        path = self.sims[session].data_dir / "store" / f"FIX.4.2-IB-{DESKS[session]}.seqnums"
        sender, target = path.read_text().split(" : ")
        return int(sender), int(target)

    def journal_seqs(self, session: str) -> tuple[int, int]:
        """The engine's (next out, next in) for `session`, from its journal (engine stopped)."""
        stem = self.workdir / "store" / session / f"FIX.4.2-{DESKS[session]}-IB"
        with JournalStore(stem, now=time.time()) as store:
            return store.next_sender_seq, store.next_target_seq

    def stop(self) -> None:
        for strategy in self.strategies:
            strategy.close()
        for engine in self.engines:
            engine.kill9()
        for sim in self.sims.values():
            sim.kill()
        for line in self.lines.values():
            line.close()


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest) -> Iterator[TwoSessions]:
    path = make_workdir("frms-")
    failed_before = request.session.testsfailed
    stack = TwoSessions(path, SHARED_ROUTING, split=False)
    try:
        yield stack
    finally:
        stack.stop()
        cleanup_workdir(path, request.session.testsfailed > failed_before)


@pytest.fixture
def make_private(request: pytest.FixtureRequest) -> Iterator[Callable[..., TwoSessions]]:
    made: list[tuple[Path, TwoSessions]] = []

    def make(routing: str, *, split: bool = True, lines: tuple[str, ...] = ()) -> TwoSessions:
        path = make_workdir("frms-")
        stack = TwoSessions(path, routing, split=split, lines=lines)
        made.append((path, stack))
        return stack

    failed_before = request.session.testsfailed
    try:
        yield make
    finally:
        for path, stack in made:
            stack.stop()
            cleanup_workdir(path, request.session.testsfailed > failed_before)


def session_of(accepted: Accepted) -> str:
    # Default ClOrdID prefixes, in the order the sessions are configured.
    return {"A": "desk1", "B": "desk2"}[accepted.cl_ord_id.split("-")[0][-1]]


def session_event(s: Strategy, session: str, state: str, after: int = 0) -> SessionChanged:
    """The first `session` event of `session` entering `state` among events `after` on."""
    def seen(_: object) -> bool:
        return any(isinstance(e, SessionChanged) and e.session == session and e.state == state
                   for e in s.events[after:])

    s.wait(seen, f"session {session} {state}")
    return next(e for e in s.events[after:]
                if isinstance(e, SessionChanged) and e.session == session and e.state == state)


# ---- routing ---------------------------------------------------------------------------------


def test_orders_are_routed_by_account_and_strategy(shared: TwoSessions) -> None:
    s = shared.strategy("ms-route")
    s.client.new("to-1", "AAPL", "buy", 10, "limit", price="190", account=U1)
    s.client.new("to-2", "AAPL", "buy", 20, "limit", price="190", account=U2)
    listed = shared.strategy("ms-listed")
    listed.client.new("by-strategy", "AAPL", "buy", 30, "limit", price="190")
    assert session_of(s.accepted("to-1")) == "desk1"
    assert session_of(s.accepted("to-2")) == "desk2"
    assert session_of(listed.accepted("by-strategy")) == "desk1"
    for strategy, order_id, desk, account in ((s, "to-1", "desk1", U1), (s, "to-2", "desk2", U2),
                                              (listed, "by-strategy", "desk1", None)):
        assert strategy.done(order_id).cum_qty > 0
        sent = shared.wire(desk, strategy.accepted(order_id).cl_ord_id)
        assert (sent.get_str(49), sent.get_str(1)) == (DESKS[desk], account)
        other = "desk2" if desk == "desk1" else "desk1"
        assert shared.received(other, b"D", strategy.accepted(order_id).cl_ord_id) == []


def test_an_order_nothing_routes_is_denied_no_route(shared: TwoSessions) -> None:
    s = shared.strategy("ms-unlisted")
    s.client.new("lost", "AAPL", "buy", 10, "limit", price="190", account="U9999999")
    denied = s.refused("lost")
    assert isinstance(denied, Denied) and denied.code == "NO_ROUTE"
    assert "'U9999999'" in denied.reason and "'ms-unlisted'" in denied.reason
    s.client.new("found", "AAPL", "buy", 10, "limit", price="190", account=U2)
    assert session_of(s.accepted("found")) == "desk2"


def test_a_cancel_follows_its_orders_session(shared: TwoSessions) -> None:
    # ms-cancel's own route is desk1; the order went to desk2 by its account.
    s = shared.strategy("ms-cancel")
    s.client.new("rest-2", "IBM", "buy", 5, "limit", price="150", account=U2)
    cl = s.accepted("rest-2").cl_ord_id
    s.exec("rest-2", "new")
    s.client.cancel("rest-2")
    s.exec("rest-2", "canceled")
    assert cancels(shared, "desk2", cl) == ["DESK2"]
    assert cancels(shared, "desk1", cl) == []


def cancels(stack: TwoSessions, session: str, cl_ord_id: str) -> list[str | None]:
    """SenderCompIDs of the cancels of `cl_ord_id` that `session`'s counterparty got."""
    return [m.get_str(49) for m in stack.sims[session].messages(DESKS[session])
            if m.msg_type == b"F" and m.get_str(41) == cl_ord_id]


def test_status_and_metrics_show_both_sessions_by_name(shared: TwoSessions) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "status", "--json", "--config",
         str(shared.config)], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    sessions = {s["name"]: s for s in orjson.loads(shown.stdout)["sessions"]}
    assert set(sessions) == {"desk1", "desk2"}
    assert all(s["logged_on"] for s in sessions.values())

    _, before = scrape_url(shared.metrics_url)
    s = shared.strategy("ms-metrics")
    for i, account in enumerate((U1, U2, U2)):
        s.client.new(f"m{i}", "AAPL", "buy", 1, "limit", price="190", account=account)
        s.done(f"m{i}")
    _, after = scrape_url(shared.metrics_url)

    def grew(session: str) -> float:
        name = "fixrouter_orders_accepted_total"
        return value(after, name, session=session) - value(before, name, session=session)

    assert (grew("desk1"), grew("desk2")) == (1, 2)
    for desk in DESKS:
        assert value(after, "fixrouter_session_up", session=desk) == 1
    assert value(after, "fixrouter_orders_denied_total", code="NO_ROUTE") >= 0  # a series
    labelled = {dict(labels).get("session") for (_, labels) in after}
    assert labelled - {None} == {"desk1", "desk2"}  # no label value but configured names


# ---- isolation -------------------------------------------------------------------------------


def _round_trips(s: Strategy, tag: str, n: int,
                 meanwhile: Callable[[int], None] | None = None) -> list[float]:
    """Seconds from `new` to `filled` for `n` desk1 orders, one after the other."""
    times = []
    for i in range(n):
        if meanwhile is not None:
            meanwhile(i)
        order_id = f"{tag}-{i}"
        start = time.perf_counter()
        s.client.new(order_id, "AAPL", "buy", 1, "limit", price="190", account=U1)
        s.done(order_id)
        times.append(time.perf_counter() - start)
    return times


def all_done(s: Strategy, order_ids: list[str]) -> bool:
    s.read(0.001)
    done = {e.id for e in s.events if isinstance(e, Execution) and e.status in DONE}
    return done.issuperset(order_ids)


def test_one_session_silent_killed_and_resending_never_slows_the_other(
    make_private: Callable[..., TwoSessions],
) -> None:
    stack = make_private(f'[routing.accounts]\n{U2} = "desk2"\n')  # default: desk1
    d1 = stack.strategy("iso-desk1")
    d2 = stack.strategy("iso-desk2")
    _round_trips(d1, "warm", 10)
    base = statistics.median(_round_trips(d1, "base", 30))

    # Silent: desk2's counterparty stops reading. Its orders are journaled and written to
    # a socket nobody reads; desk1 must not notice.
    stack.signal_sim("desk2", signal.SIGSTOP)
    sent_silent: list[str] = []

    def into_silence(i: int) -> None:
        sent_silent.append(f"silent-{i}")
        d2.client.new(f"silent-{i}", "AAPL", "buy", 1, "limit", price="190", account=U2)

    silent = statistics.median(_round_trips(d1, "silent", 30, into_silence))
    for order_id in sent_silent:
        d2.accepted(order_id)  # on the wire, unanswered

    # Killed: the counterparty dies with those orders unread; reconnects are refused.
    stack.signal_sim("desk2", signal.SIGKILL)
    session_event(d1, "desk2", "logged_out")
    refused: list[Any] = []

    def into_the_void(i: int) -> None:
        d2.client.new(f"down-{i}", "AAPL", "buy", 1, "limit", price="190", account=U2)
        refused.append(f"down-{i}")

    down = statistics.median(_round_trips(d1, "down", 30, into_the_void))
    for order_id in refused:
        denied = d2.refused(order_id)
        assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
        assert "desk2 is not logged on" in denied.reason

    # Resending: desk2's counterparty comes back without the orders it never read, asks
    # for them again, and the engine resends them while desk1 trades on.
    stack.sims["desk2"].start()
    times: list[float] = []
    deadline = time.monotonic() + TIMEOUT
    while len(times) < 30 or not all_done(d2, sent_silent):  # measured across the resend
        assert time.monotonic() < deadline, "desk2's orders were not resent in time"
        times += _round_trips(d1, f"resend{len(times)}", 1)
    resending = statistics.median(times)
    assert "desk2: RESEND_REQUESTED" in stack.engine.log()
    for order_id in sent_silent:
        assert d2.done(order_id).cum_qty == 1  # each executed once, after the resend
    executed = [e for e in stack.sims["desk2"].events()
                if e.get("dir") == "in" and e.get("action") == "executed"]
    assert len(executed) == len({e["cl_ord_id"] for e in executed}) == len(sent_silent)

    # Dropped by the simulator: desk2 reconnects by itself; desk1 trades on meanwhile.
    mark = len(d2.events)
    stack.sims["desk2"].admin("drop")
    session_event(d2, "desk2", "logged_out", after=mark)
    dropped = statistics.median(_round_trips(d1, "dropped", 30))
    session_event(d2, "desk2", "logged_on", after=mark)
    d2.client.new("again", "AAPL", "buy", 1, "limit", price="190", account=U2)
    assert d2.done("again").cum_qty == 1

    medians = {"silent": silent, "down": down, "resending": resending, "dropped": dropped}
    print(f"\ndesk1 round-trip medians: base {base * 1e3:.2f} ms, "
          + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in medians.items()))
    for phase, median in medians.items():
        assert median <= 3 * base + 0.002, f"desk1 slowed while desk2 was {phase}: {medians}"


# ---- failover --------------------------------------------------------------------------------

FAILOVER_ROUTING = """
[routing]
cancel_while_down = "queue"
failover = {failover}
[routing.strategies]
fo = ["desk2", "desk1"]
"""


def test_failover_is_refused_when_off_and_takes_the_next_session_when_on(
    make_private: Callable[..., TwoSessions],
) -> None:
    stack = make_private(FAILOVER_ROUTING.format(failover="false"), lines=("desk2",))
    fo = stack.strategy("fo")
    fo.client.new("working", "IBM", "buy", 5, "limit", price="150")
    cl = fo.accepted("working").cl_ord_id
    assert session_of(fo.accepted("working")) == "desk2"
    fo.exec("working", "new")

    # The simulator drops desk2's line, and the line stays down (reconnects are refused)
    # while the simulator keeps its book of working orders.
    mark = len(fo.events)
    stack.lines["desk2"].hold()
    stack.sims["desk2"].admin("drop")
    session_event(fo, "desk2", "logged_out", after=mark)

    # Failover off: refused, naming the session, and nothing goes to desk1.
    fo.client.new("refused", "AAPL", "buy", 5, "limit", price="190")
    denied = fo.refused("refused")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert denied.reason == "FIX session desk2 is not logged on; nothing was sent"

    # The working order stays on desk2; its cancel waits for desk2, never goes to desk1.
    fo.client.cancel("working")
    fo.read(0.5)
    assert not [e for e in fo.of("working") if isinstance(e, CancelRejected)]
    stack.engine.wait_log("fo/working: FIX session desk2 is down; the cancel waits")
    stack.lines["desk2"].release()
    session_event(fo, "desk2", "logged_on", after=mark)
    fo.exec("working", "canceled")
    assert cancels(stack, "desk2", cl) == ["DESK2"]
    assert not [m for m in stack.sims["desk1"].messages("DESK1") if m.msg_type == b"F"]

    # Failover on (a restart with the setting changed): new orders take desk1.
    assert stack.engine.terminate() == 0
    stack.lines["desk2"].hold()
    stack.config.write_text(stack.config.read_text().replace("failover = false",
                                                             "failover = true"))
    stack.start_engine(up=("desk1",))
    fo = stack.strategy("fo")
    fo.client.new("failed-over", "AAPL", "buy", 5, "limit", price="190")
    accepted = fo.accepted("failed-over")
    assert session_of(accepted) == "desk1"
    assert fo.done("failed-over").cum_qty == 5
    assert stack.wire("desk1", accepted.cl_ord_id).get_str(49) == "DESK1"
    stack.engine.wait_log(
        "fo/failed-over: FIX session desk2 is down; failing over to desk1 (strategies.fo)")


# ---- recovery --------------------------------------------------------------------------------


def test_both_sessions_recover_after_kill_9_each_with_its_own_sequence_numbers(
    make_private: Callable[..., TwoSessions],
) -> None:
    stack = make_private(f'[routing.accounts]\n{U2} = "desk2"\n', split=False)
    s = stack.strategy("rec")
    s.client.new("rest-1", "IBM", "buy", 10, "limit", price="150", account=U1)
    s.client.new("rest-2", "IBM", "buy", 100, "limit", price="150", account=U2)
    for i in range(4):  # desk2 gets more traffic: the sessions' numbers part ways
        s.client.new(f"fill-{i}", "AAPL", "buy", 1, "limit", price="190", account=U2)
        s.done(f"fill-{i}")
    cl = {i: s.accepted(i).cl_ord_id for i in ("rest-1", "rest-2")}
    s.exec("rest-1", "new")
    s.exec("rest-2", "new")

    stack.engine.kill9()
    # While the engine is dead, IB fills on both lines; each resends on its own logon.
    assert stack.sims["desk1"].admin("fill", cl_ord_id=cl["rest-1"])["ok"]
    assert stack.sims["desk2"].admin("fill", cl_ord_id=cl["rest-2"], qty="40")["ok"]
    stack.start_engine()
    assert "order book recovered: 2 working orders" in stack.engine.log()

    s = stack.strategy("rec")

    def truth() -> bool:
        return {(o.id, o.cum_qty) for o in s.client.orders()} == {("rest-2", Decimal(40))}

    wait_until(truth, TIMEOUT, "rest-1 filled and rest-2 40 filled, after the restart")
    s.client.cancel("rest-2")  # the book still knows its session
    s.exec("rest-2", "canceled")
    assert cancels(stack, "desk2", cl["rest-2"]) == ["DESK2"]

    assert stack.engine.terminate() == 0
    seqs = {}
    for desk in DESKS:
        ours = stack.journal_seqs(desk)
        sim_sends, sim_expects = stack.sim_seqnums(desk)
        assert ours == (sim_expects, sim_sends), desk  # each line agrees with its peer
        seqs[desk] = ours
    assert seqs["desk1"] != seqs["desk2"]
