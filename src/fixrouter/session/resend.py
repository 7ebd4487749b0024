"""Answering a ResendRequest from the store, streamed (case 8, 8').

Theory of operation
-------------------
A `ResendJob` walks `store.iter_outbound(begin, end)` lazily, at most `limit` stored
messages per `step()`, so a resend of a whole trading day never holds more than one step's
messages (the journal itself reads through a bounded window). Between steps the session
returns to its driver, which writes what it has and calls `on_timer` again.

For each stored message:

* an application message is re-encoded with `Encoder.encode_resend` (same MsgSeqNum and
  body, 43=Y, a fresh 52 and the original 52 in 122) unless it is older than
  `max_resend_age`, in which case it is treated like an admin message and reported
  NOT_DELIVERED, so its strategy learns the order never reached the broker;
* an admin message (and any number missing from the store, and a stored message that no
  longer decodes) is never resent: it joins the current *gap run*.

A gap run is closed by the next resent application message, or by the end of the range,
with one SequenceReset-GapFill: 34 = the run's first number, 123=Y, 36 = the number after
the run. The run is kept across steps, so chunking never splits a GapFill.

Nothing here takes a new MsgSeqNum, so nothing is journaled: the resent messages already
are. Their SendBytes carry the store's current ticket, which keeps tickets monotonic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fixrouter.codec import Encoder, parse_utc_timestamp
from fixrouter.codec.decoder import decode_frame
from fixrouter.errors import GarbledMessageError
from fixrouter.store import MessageStore

from .actions import Action, EventKind, SendBytes, SessionEvent
from .messages import ADMIN_MSG_TYPES, SEQUENCE_RESET, gap_fill_body

_MSG_TYPE_MARK: Final = b"\x0135="


def peek_msg_type(data: bytes) -> bytes:
    """MsgType of an encoded frame without decoding it (admin runs skip the full decode)."""
    start = data.find(_MSG_TYPE_MARK)
    if start < 0:
        return b""
    start += len(_MSG_TYPE_MARK)
    return data[start : data.find(b"\x01", start)]


class ResendJob:
    """One ResendRequest being answered. See the module docstring."""

    __slots__ = ("_begin_string", "_encoder", "_gap_start", "_items", "_max_age", "_store",
                 "begin", "end")

    def __init__(
        self,
        store: MessageStore,
        encoder: Encoder,
        begin: int,
        end: int,
        *,
        begin_string: bytes,
        max_resend_age: float | None,
    ) -> None:
        """Resend `begin..end` inclusive; `end` is already clamped to the last number sent."""
        self.begin = begin
        self.end = end
        self._store = store
        self._encoder = encoder
        self._begin_string = begin_string
        self._max_age = max_resend_age
        self._gap_start = begin
        self._items: Iterator[tuple[int, bytes]] = store.iter_outbound(begin, end)

    def step(self, now: float, limit: int, out: list[Action]) -> bool:
        """Append up to `limit` stored messages' worth of actions; True when finished.

        Raises:
            StoreError: the store failed, or was reset while the job ran.
        """
        encoder = self._encoder
        timestamp = encoder.timestamp(now)
        ticket = self._store.written_upto()
        max_age = self._max_age
        for count, (seq, data) in enumerate(self._items, 1):
            msg_type = peek_msg_type(data)
            if msg_type and msg_type not in ADMIN_MSG_TYPES:
                try:
                    original = decode_frame(data, self._begin_string)
                except GarbledMessageError as exc:
                    out.append(SessionEvent(
                        EventKind.NOT_DELIVERED,
                        f"stored message does not decode ({exc}); gap-filled", seq,
                    ))
                else:
                    if max_age is not None and self._too_old(original.get(52), now, max_age):
                        out.append(SessionEvent(
                            EventKind.NOT_DELIVERED,
                            f"35={msg_type.decode('latin-1')} older than MaxResendAge "
                            f"{max_age:g}s; gap-filled instead of resent", seq, original,
                        ))
                    else:
                        self._close_gap(seq, timestamp, ticket, out)
                        out.append(SendBytes(encoder.encode_resend(original, timestamp), ticket))
                        self._gap_start = seq + 1
            if count >= limit:
                return False
        self._close_gap(self.end + 1, timestamp, ticket, out)
        return True

    def _close_gap(self, upto: int, timestamp: bytes, ticket: int, out: list[Action]) -> None:
        if self._gap_start < upto:
            data = self._encoder.encode_possdup(
                SEQUENCE_RESET, self._gap_start, timestamp, timestamp, gap_fill_body(upto)
            )
            out.append(SendBytes(data, ticket))
        self._gap_start = upto

    @staticmethod
    def _too_old(sending_time: bytes | None, now: float, max_age: float) -> bool:
        if sending_time is None:
            return False
        try:
            return now - parse_utc_timestamp(sending_time) > max_age
        except ValueError:
            return False
