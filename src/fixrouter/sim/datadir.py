"""The simulator's data directory: its layout and the small files that outlive a run.

    <data-dir>/
      sim.effective.cfg      QuickFIX settings rendered from fix/sim.cfg at start
      store/                 QuickFIX FileStore: sequence numbers and sent messages
      log/                   QuickFIX FileLog: every message in and out, and session events
      sim-events.jsonl       the machine-readable event log (see fix/README.md)
      admin.sock             the admin command channel (mode 0600)
      boot                   how many times the simulator has started here

Everything is appended with one os.write per record on an O_APPEND descriptor, so a record
is whole in the page cache the moment the call returns: a `kill -9` of the simulator loses
nothing already written, and concurrent writers never interleave inside a line. There is no
fsync: these files guard against process crashes in tests, not power loss.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import orjson

EVENTS_NAME = "sim-events.jsonl"
ADMIN_SOCKET_NAME = "admin.sock"
SETTINGS_NAME = "sim.effective.cfg"


class DataDir:
    """Paths inside one simulator data directory, created on construction."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = self.root / "store"
        self.log = self.root / "log"
        self.events = self.root / EVENTS_NAME
        self.admin_socket = self.root / ADMIN_SOCKET_NAME
        self.settings = self.root / SETTINGS_NAME
        for d in (self.store, self.log):
            d.mkdir(exist_ok=True)

    def reset(self) -> None:
        """Forget sequence numbers and known ClOrdIDs: a fresh IB, as after a weekly reset.

        The event log keeps its history; a `reset` record in it marks where the set of
        known ClOrdIDs starts again.
        """
        shutil.rmtree(self.store, ignore_errors=True)
        self.store.mkdir()
        log = EventLog(self.events)
        try:
            log.write({"dir": "event", "action": RESET_ACTION})
        finally:
            log.close()

    def next_boot(self) -> int:
        """Bump and return the start counter that keeps OrderIDs and ExecIDs unique."""
        path = self.root / "boot"
        try:
            boot = int(path.read_text().strip() or 0) + 1
        except FileNotFoundError:
            boot = 1
        except ValueError:
            boot = 1  # a torn write from a crash; the start time still keeps IDs apart
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{boot}\n")
        tmp.replace(path)  # atomic: a crash leaves the old or the new count, never half
        return boot

    def known_clordids(self, session: str) -> KnownClOrdIds:
        return KnownClOrdIds.from_event_log(self.events, session)


# Dispositions under which the Book did *not* record the ClOrdID as received.
_NOT_RECORDED = frozenset({"duplicate_ignored", "duplicate_rejected"})
_RECORDING_TYPES = frozenset({"D", "F", "G"})
RESET_ACTION = "reset"


class KnownClOrdIds:
    """Every ClOrdID a session has received, for the never-execute-twice rule.

    The durable record is the `in` line the app writes to the event log after the Book
    has handled a message and before any report is sent. Keeping the dedupe state in that
    same single write matters: with a separate file there is always a moment where one
    write has happened and the other has not, and a `kill -9` there either loses the
    "executed" record of an order that was taken (a resend is then ignored as a
    duplicate) or forgets an order that was logged (a resend executes it twice).
    `add` is therefore in memory only.
    """

    def __init__(self, ids: set[str] | None = None) -> None:
        self._ids: set[str] = ids if ids is not None else set()

    @classmethod
    def from_event_log(cls, path: Path, session: str) -> KnownClOrdIds:
        ids: set[str] = set()
        try:
            with path.open("rb") as f:
                for line in f:
                    try:
                        record = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue  # the torn last line of a crashed run
                    if not isinstance(record, dict):
                        continue
                    if record.get("dir") == "event" and record.get("action") == RESET_ACTION:
                        ids.clear()
                    elif (
                        record.get("dir") == "in"
                        and record.get("session") == session
                        and record.get("msg_type") in _RECORDING_TYPES
                        and record.get("action") not in _NOT_RECORDED
                        and isinstance(record.get("cl_ord_id"), str)
                    ):
                        ids.add(record["cl_ord_id"])
        except FileNotFoundError:
            pass
        return cls(ids)

    def __contains__(self, cl_ord_id: object, /) -> bool:
        return cl_ord_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, cl_ord_id: str, /) -> None:
        self._ids.add(cl_ord_id)

    def close(self) -> None:
        """Nothing to release: the event log holds the durable record."""


class EventLog:
    """Writer of sim-events.jsonl. Each record gets `ts`, UTC with microseconds, first."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: Mapping[str, object]) -> None:
        line = {"ts": datetime.now(UTC).isoformat(timespec="microseconds"), **record}
        os.write(self._fd, orjson.dumps(line, default=str, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        os.close(self._fd)
