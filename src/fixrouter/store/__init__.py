"""Per-session message stores: sequence numbers and the journal of sent and received messages.

``MemoryStore`` for tests, ``JournalStore`` (an append-only, CRC-framed file per session)
for production; both satisfy the ``MessageStore`` protocol. See ``store.base`` for the
interface and durability tickets, ``store.journal`` for the file format and recovery.
"""

from fixrouter.store.base import (
    CorruptJournalError,
    Durability,
    MessageStore,
    SequenceError,
    StoreError,
)
from fixrouter.store.journal import JournalStore
from fixrouter.store.memory import MemoryStore

__all__ = [
    "CorruptJournalError",
    "Durability",
    "JournalStore",
    "MemoryStore",
    "MessageStore",
    "SequenceError",
    "StoreError",
]
