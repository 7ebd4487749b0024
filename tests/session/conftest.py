"""A fake counterparty and a fake clock around one `Session`.

`Harness` feeds the session bytes built with `encode_fields` and decodes every SendBytes it
returns, so tests assert on the exact fields that went out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from fixrouter.codec import Field, FixMessage, encode_fields, format_utc_ms
from fixrouter.codec.decoder import decode_frame
from fixrouter.session import (
    Action,
    Deliver,
    Disconnect,
    EventKind,
    SendBytes,
    Session,
    SessionConfig,
    SessionEvent,
)
from fixrouter.store import MemoryStore, MessageStore

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
US = "FIXROUTER"
THEM = "IB"


def sent(actions: Iterable[Action]) -> list[FixMessage]:
    """Every message the session asked to write, decoded."""
    return [decode_frame(a.data) for a in actions if isinstance(a, SendBytes)]


def delivered(actions: Iterable[Action]) -> list[FixMessage]:
    return [a.message for a in actions if isinstance(a, Deliver)]


def events(actions: Iterable[Action], kind: EventKind | None = None) -> list[SessionEvent]:
    return [a for a in actions if isinstance(a, SessionEvent) and (kind is None or a.kind == kind)]


def disconnects(actions: Iterable[Action]) -> list[Disconnect]:
    return [a for a in actions if isinstance(a, Disconnect)]


def fields(msg: FixMessage) -> dict[int, bytes]:
    """Header and body fields by tag (first occurrence), without 8, 9 and 10."""
    out: dict[int, bytes] = {}
    for tag, value in msg.fields:
        if tag not in (8, 9, 10):
            out.setdefault(tag, value)
    return out


def kinds(actions: Iterable[Action]) -> list[str]:
    """A compact trace: msg types sent, events, deliveries, disconnects, in order."""
    trace: list[str] = []
    for a in actions:
        if isinstance(a, SendBytes):
            trace.append("send:" + decode_frame(a.data).msg_type.decode())
        elif isinstance(a, Deliver):
            trace.append("deliver:" + a.message.msg_type.decode())
        elif isinstance(a, SessionEvent):
            trace.append("event:" + a.kind.value)
        else:
            trace.append("disconnect:" + a.reason.value)
    return trace


class Harness:
    """One session, a fake clock and a fake counterparty with its own MsgSeqNum."""

    def __init__(self, store: MessageStore | None = None, **settings: Any) -> None:
        self.now = T0
        self.store = store if store is not None else MemoryStore(now=T0)
        params: dict[str, Any] = {"sender_comp_id": US, "target_comp_id": THEM,
                                  "heartbeat_interval": 30}
        params.update(settings)
        self.config = SessionConfig(**params)
        self.session = Session(self.config, self.store)
        self.peer_seq = 1

    # -- counterparty --------------------------------------------------------------------

    def msg(
        self,
        msg_type: str,
        *body: Field,
        seq: int | None = None,
        poss_dup: bool = False,
        orig_sending_time: float | None = None,
        sending_time: float | None = None,
        sender: str = THEM,
        target: str = US,
        extra_header: Sequence[Field] = (),
    ) -> bytes:
        """A counterparty message. Without `seq` it takes (and advances) the peer's number."""
        if seq is None:
            seq = self.peer_seq
            self.peer_seq += 1
        header: list[Field] = [
            (35, msg_type), (49, sender), (56, target), (34, seq),
            (52, format_utc_ms(self.now if sending_time is None else sending_time)),
        ]
        if poss_dup:
            header.append((43, "Y"))
        if orig_sending_time is not None:
            header.append((122, format_utc_ms(orig_sending_time)))
        return encode_fields([*header, *extra_header, *body])

    def logon_answer(self, **kwargs: Any) -> bytes:
        return self.msg("A", (98, 0), (108, self.config.heartbeat_interval), **kwargs)

    def exec_report(self, cl_ord_id: str = "C1", **kwargs: Any) -> bytes:
        return self.msg(
            "8", (37, "O1"), (11, cl_ord_id), (17, "E-" + cl_ord_id), (20, "0"), (150, "0"),
            (39, "0"), (55, "AAPL"), (54, "1"), (38, 100), (32, 0), (31, "0"), (151, 100),
            (14, 0), (6, "0"), **kwargs,
        )

    # -- driving the session -------------------------------------------------------------

    def connect(self) -> list[Action]:
        return self.session.connection_made(self.now)

    def feed(self, *frames: bytes) -> list[Action]:
        return self.session.receive_data(b"".join(frames), self.now)

    def tick(self, seconds: float = 0.0) -> list[Action]:
        self.now += seconds
        return self.session.on_timer(self.now)

    def send_order(self, cl_ord_id: str = "C1") -> list[Action]:
        body = b"11=%b\x0121=2\x0155=AAPL\x0154=1\x0138=100\x0140=1\x01100=SMART\x01" % (
            cl_ord_id.encode()
        )
        return self.session.send_app(b"D", body, self.now)

    def logon(self) -> list[Action]:
        """Connect and have the counterparty accept; returns every action of both steps."""
        actions = self.connect()
        actions += self.feed(self.logon_answer())
        assert self.session.logged_on, kinds(actions)
        return actions


@pytest.fixture
def h() -> Harness:
    return Harness()
