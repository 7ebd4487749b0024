"""The MessageStore interface every session talks to, and the store's errors.

Theory of operation
-------------------
One store object belongs to one FIX session (the caller passes a per-session file stem,
``FileStorePath/<BeginString>-<SenderCompID>-<TargetCompID>``). It keeps:

* the two sequence numbers: ``next_sender_seq`` (the MsgSeqNum our next message gets) and
  ``next_target_seq`` (the MsgSeqNum we expect next from the counterparty);
* the outbound messages we sent, keyed by MsgSeqNum, so a ResendRequest can be served from
  the store (``iter_outbound``); admin messages may or may not be saved: the session layer
  decides, and a sequence number with no saved message is simply absent (the session
  gap-fills it);
* the inbound application messages and the session Rejects (35=3) received, in arrival
  order (``iter_inbound``), so the order book can be rebuilt from ExecutionReports and
  refusals after a crash;
* the creation time of the current session period, reset by ``reset(now)``.

Saving and advancing are one call, as in quickfixgo's SaveMessageAndIncrNextSenderMsgSeqNum:
``save_outbound(seq, data)`` insists that ``seq == next_sender_seq`` and moves it to
``seq + 1``; ``save_inbound`` does the same for the inbound side. A number can therefore
never be reused or skipped by accident; moving a number on purpose (SequenceReset, operator
``fixrouter seq``) is ``set_next_*_seq``.

Durability is a ticket protocol that lets the asyncio adapter do group commit:
``written_upto()`` is a monotonically increasing ticket for everything handed to the store
so far, ``sync()`` makes everything written before it was called durable and returns the
ticket it covered, and ``synced_upto()`` is the highest ticket known to be durable. The
transport holds outbound bytes whose ticket is above ``synced_upto()``. ``sync()`` may run
in a worker thread while the loop thread keeps appending. In ``os`` mode (and for the memory
store) every write is as durable as it will get once the call returns, so ``sync()`` is a
no-op and ``synced_upto() == written_upto()`` always.

Both stores are also a ``SearchableStore``: the order book keeps no per-order memory of
finished orders and reads their history back from the journal when a late report names
one (``fixrouter.oms.recall``). ``find_last`` and ``scan`` find messages by a byte string
in their payload, at C speed over the journal file (``fixrouter.store.search``), between
*positions*: opaque, increasing with the order in which messages were saved.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from fixrouter.errors import FixRouterError, LocalProtocolError


class Durability(enum.Enum):
    """The ``durability`` setting: how far a record has got when the store says so."""

    OS = "os"
    """The record has been handed to the kernel (write(2) returned): survives kill -9."""

    FSYNC = "fsync"
    """The record is on stable storage once a ``sync()`` covering it returns: survives a
    power loss. Send only what a completed sync covers (group commit)."""


class StoreError(FixRouterError):
    """The message store cannot do what was asked (I/O failure, closed, misuse)."""


class SequenceError(StoreError, LocalProtocolError):
    """A message was saved with a MsgSeqNum other than the expected next one.

    A local protocol error: sending it would reuse or skip a sequence number.
    """


class CorruptJournalError(StoreError):
    """The journal file is damaged somewhere other than a torn final record.

    Refusing to start is deliberate: guessing would risk reusing sequence numbers or
    losing orders. ``path`` and ``offset`` say where, so an operator can inspect it.
    """

    def __init__(self, message: str, *, path: str, offset: int) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset


@runtime_checkable
class MessageStore(Protocol):
    """Per-session message store: sequence numbers, sent and received messages."""

    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum for our next outbound message."""
        ...

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum we expect next from the counterparty."""
        ...

    @property
    def creation_time(self) -> float:
        """Start of the current session period, epoch seconds UTC."""
        ...

    def set_next_sender_seq(self, seq: int) -> None:
        """Move the outbound number on purpose (reset, operator).

        Saved outbound messages with MsgSeqNum >= ``seq`` are forgotten, so a later
        resend never replays a message the new numbering superseded.
        Raises StoreError if ``seq < 1``.
        """
        ...

    def set_next_target_seq(self, seq: int) -> None:
        """Move the expected inbound number (SequenceReset, gap fill, operator)."""
        ...

    def incr_next_target_seq(self) -> None:
        """Advance the inbound number past a message that is not saved (admin)."""
        ...

    def save_outbound(self, seq: int, data: bytes) -> None:
        """Save a message we are about to send and advance ``next_sender_seq`` to seq + 1.

        Raises SequenceError if ``seq != next_sender_seq``; StoreError if it cannot be
        written (then nothing was saved and the number did not advance).
        """
        ...

    def save_inbound(self, seq: int, data: bytes) -> None:
        """Save a received message and advance ``next_target_seq`` to seq + 1.

        Raises SequenceError if ``seq != next_target_seq``.
        """
        ...

    def iter_outbound(self, begin: int, end: int = 0) -> Iterator[tuple[int, bytes]]:
        """Yield the saved outbound messages with begin <= seq <= end, in order.

        ``end`` 0 (or beyond the last) means to the end. Unsaved numbers are absent.
        """
        ...

    def iter_inbound(self) -> Iterator[tuple[int, bytes]]:
        """Yield the saved inbound messages of this session period in arrival order."""
        ...

    def written_upto(self) -> int:
        """Ticket covering everything saved so far (monotonically increasing)."""
        ...

    def synced_upto(self) -> int:
        """Highest ticket known to be durable under the store's durability mode."""
        ...

    def sync(self) -> int:
        """Make everything written so far durable; return the ticket covered.

        Thread-safe against concurrent appends on the loop thread.
        """
        ...

    def commit(self) -> int:
        """QuickFIX-style name for ``sync()``."""
        ...

    def reset(self, now: float) -> None:
        """Start a new session period: both numbers back to 1, creation time ``now``."""
        ...

    def close(self) -> None:
        """Release the store; further saves raise StoreError. Idempotent."""
        ...


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A journaled message as a search found it: where, which way, its MsgSeqNum, bytes."""

    position: int
    outbound: bool
    seq: int
    data: bytes


@runtime_checkable
class SearchableStore(Protocol):
    """A store whose saved messages can be searched by content (see the module
    docstring). Positions are only comparable within one session period."""

    def history_end(self) -> int:
        """The position just past the last message saved so far."""
        ...

    def find_last(self, needle: bytes, end: int) -> StoredMessage | None:
        """The last message saved before position ``end`` whose bytes contain
        ``needle``, or None."""
        ...

    def scan(self, needles: list[bytes], start: int, end: int) -> Iterator[StoredMessage]:
        """The messages saved at positions ``start`` <= p < ``end`` whose bytes contain any
        of ``needles``, in the order they were saved. The caller may append to
        ``needles`` while iterating: a needle added is searched from there on."""
        ...

    def iter_messages(self) -> Iterator[StoredMessage]:
        """Every message of the session period, both ways, in the order they were saved
        (the order things happened), without the outbound ones a rewind superseded."""
        ...
