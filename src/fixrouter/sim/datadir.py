"""The simulator's data directory: its layout and the small files that outlive a run.

    <data-dir>/
      sim.effective.cfg      QuickFIX settings rendered from fix/sim.cfg at start
      store/                 QuickFIX FileStore: sequence numbers and sent messages
      log/                   QuickFIX FileLog: every message in and out, and session events
      sim-events.jsonl       the machine-readable event log (see fix/README.md)
      admin.sock             the admin command channel (mode 0600)
      boot                   how many times the simulator has started here
      clordids/<session>.jsonl  every ClOrdID each session has received

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
        self.clordids = self.root / "clordids"
        for d in (self.store, self.log, self.clordids):
            d.mkdir(exist_ok=True)

    def reset(self) -> None:
        """Forget sequence numbers and known ClOrdIDs: a fresh IB, as after a weekly reset."""
        for d in (self.store, self.clordids):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()

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
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in session)
        return KnownClOrdIds(self.clordids / f"{safe}.jsonl")


class KnownClOrdIds:
    """A set of ClOrdIDs backed by an append-only file of JSON strings, one per line."""

    def __init__(self, path: Path) -> None:
        self._ids: set[str] = set()
        try:
            with path.open("rb") as f:
                for line in f:
                    try:
                        value = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue  # the torn last line of a crashed run
                    if isinstance(value, str):
                        self._ids.add(value)
        except FileNotFoundError:
            pass
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def __contains__(self, cl_ord_id: object, /) -> bool:
        return cl_ord_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, cl_ord_id: str, /) -> None:
        if cl_ord_id not in self._ids:
            self._ids.add(cl_ord_id)
            # JSON so a ClOrdID holding a newline cannot split a record.
            os.write(self._fd, orjson.dumps(cl_ord_id) + b"\n")

    def close(self) -> None:
        os.close(self._fd)


class EventLog:
    """Writer of sim-events.jsonl. Each record gets `ts`, UTC with microseconds, first."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: Mapping[str, object]) -> None:
        line = {"ts": datetime.now(UTC).isoformat(timespec="microseconds"), **record}
        os.write(self._fd, orjson.dumps(line, default=str, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        os.close(self._fd)
