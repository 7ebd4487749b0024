"""Inbound benchmark: one ExecutionReport from bytes to the events for its strategy, by stage.

Run: `python tests/bench/bench_inbound.py [--rounds N] [--batch N] [--json]`

The reports are the benchmark acceptor's (`fixrouter.bench.acceptor`): an ExecutionReport
New and a Filled, 15 body fields, IB's CompIDs. Each figure is the per-message time of a
batch of `--batch` messages; median and p99 over `--rounds` batches. Every message is a
fresh one (its own MsgSeqNum, ExecID, decoded fields), built before the timing starts, so
no stage is measured on a cached result. Stages, in the order a report meets them:

* **decode**: `FrameDecoder.feed` of one frame (framing, BodyLength, CheckSum, split).
* **header checks**: MsgSeqNum, CompIDs, SendingTime inside the window, PossDup flag:
  `states.check_header` and what `InSession.on_message` reads before it.
* **dictionary check**: the validator's verdict on the decoded message, the field list
  included (`FixMessage.fields` + `CompiledValidator.check_inbound`, or the precompiled
  `check_inbound_message` where the tree has it).
* **journal save_inbound**: the record of the received message (`JournalStore`, `os`).
* **session receive_data**: all of the above plus sequence handling and the `Deliver`
  action, through a logged-on `Session` with a journal and the validator.
* **book**: `OrderBook.on_execution_report` on a working order (New), then on the same
  orders (Filled).
* **receive_data + book**: the whole inbound path short of the socket and the event write.

The script imports only APIs both the current and earlier trees have, so it can time an
A/B pair: run it with each tree's interpreter.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from batched import measure

from fixrouter.codec import BodyTemplate, Encoder, FixMessage, FrameDecoder, format_utc_ms
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.oms import MemoryIntentLog, Order, OrderBook
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.session import Deliver, Session, SessionConfig
from fixrouter.session import states as session_states
from fixrouter.store import JournalStore, MemoryStore

NOW = 1_795_000_000.123
US, THEM = "FIXROUTER", "IB"
# The acceptor's ExecutionReport layout (tags in the dictionary's order).
ER = BodyTemplate((37, 11, 17, 20, 150, 39, 55, 54, 38, 32, 31, 151, 14, 6, 60))


def er_new(cl: bytes, n: int) -> bytes:
    return ER.render((b"%d" % n, cl, b"E%dN" % n, b"0", b"0", b"0", b"AAPL", b"1", b"100",
                      b"0", b"0", b"100", b"0", b"0", b"20261124-10:22:16.120"))


def er_fill(cl: bytes, n: int) -> bytes:
    return ER.render((b"%d" % n, cl, b"E%dF" % n, b"0", b"2", b"2", b"AAPL", b"1", b"100",
                      b"100", b"190.25", b"0", b"100", b"190.25", b"20261124-10:22:16.121"))


def requests() -> Iterator[NewOrder]:
    n = 0
    while True:
        n += 1
        yield NewOrder("alpha", f"o{n}", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT,
                       price=Decimal("190.25"), account="U1234567")


def book_with(count: int) -> tuple[OrderBook, list[Order]]:
    book = OrderBook()
    book.add_session("ib", "A", MemoryIntentLog())
    book.rebuild("ib", MemoryStore(now=NOW))
    orders = []
    for req, _ in zip(requests(), range(count), strict=False):
        order = book.prepare_new(req, NOW)
        assert isinstance(order, Order)
        book.sent(order)
        orders.append(order)
    return book, orders


def logged_on(store: Any, validator: CompiledValidator) -> tuple[Session, Encoder]:
    config = SessionConfig(sender_comp_id=US, target_comp_id=THEM, heartbeat_interval=30)
    session = Session(config, store, validator=validator)
    peer = Encoder(THEM, US)
    session.connection_made(NOW)
    session.receive_data(peer.encode(b"A", 1, format_utc_ms(NOW), b"98=0\x01108=30\x01"), NOW)
    assert session.logged_on
    return session, peer


def stream(peer: Encoder, first_seq: int, bodies: list[bytes]) -> list[bytes]:
    sending_time = format_utc_ms(NOW)
    return [peer.encode(b"8", first_seq + i, sending_time, body) for i, body in enumerate(bodies)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rounds, batch = args.rounds, args.batch
    validator = CompiledValidator(load_dictionary())
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        book, orders = book_with(rounds * batch)
        cls = [o.cl_ord_id.encode() for o in orders]
        for kind, make in (("New", er_new), ("Fill", er_fill)):
            bodies = [make(cl, n) for n, cl in enumerate(cls)]
            _stages(kind, bodies, validator, book, Path(tmp), rounds, batch, results)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print(f"{'stage':36} {'median µs':>10} {'p99 µs':>8}")
        for label, r in results.items():
            print(f"{label:36} {r['median_us']:10.2f} {r['p99_us']:8.2f}")
    return 0


def _timed(fn: Callable[[Any], object], items: list[Any], rounds: int,
           batch: int) -> dict[str, float]:
    it = iter(items)
    gc.collect()
    gc.freeze()
    try:
        return measure(lambda: fn(next(it)), rounds, batch)
    finally:
        gc.unfreeze()


def _stages(kind: str, bodies: list[bytes], validator: CompiledValidator, book: OrderBook,
            tmp: Path, rounds: int, batch: int, results: dict[str, dict[str, float]]) -> None:
    """Time each stage of one kind of report (every stage on fresh input)."""
    count = rounds * batch
    frames = stream(Encoder(THEM, US), 2, bodies)
    decoder = FrameDecoder()
    results[f"{kind}: decode"] = _timed(lambda f: decoder.feed(f)[0], frames, rounds, batch)

    def decoded() -> list[FixMessage]:
        return [decoder.feed(f)[0] for f in frames]  # type: ignore[misc]

    session, _ = logged_on(MemoryStore(now=NOW), validator)

    def header(msg: FixMessage) -> object:
        raw = msg.index.get(b"34")
        seq = int(raw) if raw is not None and raw.isdigit() else None
        return seq, session_states.check_header(session, msg, NOW), msg.index.get(b"43")

    results[f"{kind}: header checks"] = _timed(header, decoded(), rounds, batch)
    precompiled = getattr(validator, "check_inbound_message", None)
    if precompiled is None:  # a tree before the precompiled check

        def precompiled(m: FixMessage) -> object:
            return validator.check_inbound(b"8", m.fields)

    results[f"{kind}: dictionary check"] = _timed(precompiled, decoded(), rounds, batch)
    journal = JournalStore(tmp / f"save-{kind}", now=NOW)
    results[f"{kind}: journal save_inbound"] = _timed(
        lambda p: journal.save_inbound(p[0], p[1]), list(enumerate(frames, start=1)),
        rounds, batch)
    journal.close()
    # The session as a whole.
    journal = JournalStore(tmp / f"session-{kind}", now=NOW)
    session, peer = logged_on(journal, validator)
    receive = session.receive_data
    results[f"{kind}: session receive_data"] = _timed(
        lambda f: receive(f, NOW), stream(peer, 2, bodies), rounds, batch)
    assert session.next_target_seq == count + 2, "a report was not accepted"
    journal.close()
    # Each order takes one New, then one Fill: the first half of the orders through the
    # book alone, the second half behind the session.
    half = count // 2
    results[f"{kind}: book"] = _book(book.on_execution_report, decoded()[:half],
                                     rounds // 2, batch)
    journal = JournalStore(tmp / f"both-{kind}", now=NOW)
    session, peer = logged_on(journal, validator)
    results[f"{kind}: receive_data + book"] = _both(
        session, book.on_execution_report, stream(peer, 2, bodies[half:]), rounds // 2, batch)
    journal.close()


def _book(on_report: Callable[[FixMessage, str], object], msgs: list[FixMessage],
          rounds: int, batch: int) -> dict[str, float]:
    it = iter(msgs)
    gc.collect()
    gc.freeze()
    try:
        return measure(lambda: on_report(next(it), "ib"), rounds, batch)
    finally:
        gc.unfreeze()


def _both(session: Session, on_report: Callable[[FixMessage, str], object],
          frames: list[bytes], rounds: int, batch: int) -> dict[str, float]:
    it = iter(frames)
    receive = session.receive_data

    def one() -> None:
        for action in receive(next(it), NOW):
            if type(action) is Deliver:
                on_report(action.message, "ib")

    gc.collect()
    gc.freeze()
    try:
        return measure(one, rounds, batch)
    finally:
        gc.unfreeze()


if __name__ == "__main__":
    sys.exit(main())
