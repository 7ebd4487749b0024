"""Kill-switch state on disk, so a switch survives a restart, even `kill -9`.

Theory of operation
-------------------
A kill switch is a regulatory control (RTS 6 Art. 12, 15c3-5): an operator who engaged
one, or a trigger that fired, must not find it silently released because the engine was
restarted. The gate keeps switches in memory; `KillSwitchLog` is the gate's
`KillSwitchJournal`, an append-only file of engagements and releases that the engine
reads back at start-up, before the gate opens.

**Where.** `killswitch.log` in the first session's FileStorePath (`path_for`), beside the
journals and the admin socket: one file per engine, found again on every start of the
same config.

**Format.** One JSON object per line, newline-terminated::

    {"op":"engage","scope":"strategy","name":"momo","reason":"...","at":1718000000.5,
     "automatic":true}
    {"op":"release","scope":"strategy","name":"momo","at":1718000100.0}

`at` is wall-clock time (epoch seconds): the gate's own times are monotonic and mean
nothing after a restart. Each line goes out in one `write(2)` on an `O_APPEND`
descriptor and is `fsync`ed before the call returns, so a switch is on disk before the
gate reports it engaged (to the admin command, in the log, to the router that cancels),
and a release is on disk before the switch is released.

**Reading back.** Replaying the lines gives the switches in force (engaging an engaged
switch keeps the first engagement, as `KillSwitch.engage` does). A final line without
its newline is a torn tail, a write cut short by the crash; its call never returned, so
nothing was reported: it is dropped and cut off the file. Any *complete* line that does
not parse is damage, and then nobody can say which switches should be in force; the
engine still starts (refusing to start would leave the working orders at IB with no way
to cancel them), but with the **engine-wide** switch engaged and recorded, until an
operator has looked at the file and releases it. That is the gate's fail-closed rule
applied to this state. The damaged file is kept as `killswitch.log.damaged-<time>` and
the file is rewritten with what could be read, so the release sticks.

**Failures.** An engagement that cannot be written still engages (blocking is the safe
side; refusing would leave a runaway running); the gate logs it as critical. A release
that cannot be written is refused (`OSError` to the gate, which keeps the switch): a
release lost on disk would be a switch that re-engages at the next start, also safe, but
the operator must not be told "released" when that is not durable.

The file only grows by a line per engagement or release; past `COMPACT_LINES` lines it is
rewritten at start-up with only the switches in force (temporary file, `fsync`,
`rename`). The event log keeps the full history.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fixrouter.config import RouterConfig
from fixrouter.errors import FixRouterError
from fixrouter.risk.gate import RiskGate
from fixrouter.risk.killswitch import Engagement, KillScope

log = logging.getLogger("fixrouter.risk")

FILE_NAME = "killswitch.log"
COMPACT_LINES = 1000
"""Lines past which the file is rewritten at start-up with only the switches in force."""
DAMAGED = "kill-switch state file {path} is damaged at line {line}; the switches in force " \
    "cannot be known, so every new order is refused until an operator checks the file " \
    "and releases this switch"


class KillSwitchLogError(FixRouterError):
    """The kill-switch file cannot be opened, or another process holds it."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One switch in force as the file says: `at` is when it was engaged, wall clock."""

    scope: KillScope
    name: str
    reason: str
    at: float
    automatic: bool


def path_for(config: RouterConfig) -> Path:
    """`killswitch.log` in the first session's FileStorePath."""
    return config.sessions[0].store.directory / FILE_NAME


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _parse(line: bytes) -> tuple[str, KillScope, str, dict[str, Any]]:
    """(op, scope, name, record). Raises ValueError for anything this code did not write."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(rec, dict):
        raise ValueError("not a record object")
    op, scope_name, name, at = rec.get("op"), rec.get("scope"), rec.get("name"), rec.get("at")
    if op not in ("engage", "release") or not isinstance(scope_name, str) \
            or not isinstance(name, str) or not isinstance(at, int | float):
        raise ValueError(f"not a kill-switch record: {rec!r}")
    scope = KillScope(scope_name)  # ValueError for an unknown scope
    if op == "engage" and not isinstance(rec.get("reason"), str):
        raise ValueError(f"engagement without a reason: {rec!r}")
    return op, scope, name, rec


class KillSwitchLog:
    """The file-backed `KillSwitchJournal`. See the module docstring.

    Raises KillSwitchLogError if the file cannot be opened or is locked by another
    engine (the journals' lock would stop that engine too, but this one is checked on
    its own so the message names the right file).
    """

    def __init__(self, path: str | os.PathLike[str], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self.in_force: dict[tuple[KillScope, str], Recorded] = {}
        self.torn = False
        self.damaged_line: int | None = None
        """The first complete line that did not parse (1-based), if any."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                               0o600)
        except OSError as exc:
            raise KillSwitchLogError(f"cannot open {self.path}: {exc}") from exc
        try:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise KillSwitchLogError(f"{self.path} is in use by another process") from None
            if created:
                _fsync_dir(self.path.parent)  # the new name must survive a power loss too
            lines = self._read()
            if self.damaged_line is not None:
                # Keep the evidence, and start a clean file: otherwise the same damage
                # would engage the engine's switch again at every start, even after an
                # operator has checked and released it.
                kept = self.path.with_name(f"{self.path.name}.damaged-{int(self._clock())}")
                os.link(self.path, kept)
                log.error("%s: damaged; kept as %s", self.path, kept)
                self._compact()
            elif lines > COMPACT_LINES:
                self._compact()
        except OSError as exc:
            os.close(self._fd)
            raise KillSwitchLogError(f"cannot read {self.path}: {exc}") from exc
        except BaseException:
            os.close(self._fd)
            raise

    # -- reading back ----------------------------------------------------------------------

    def _read(self) -> int:
        data = b""
        while chunk := os.pread(self._fd, 1 << 20, len(data)):
            data += chunk
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # Never reported (the call that wrote it did not return): drop it, and cut it
            # off so the next record starts on a line of its own.
            self.torn = True
            log.warning("%s: torn final line (%d bytes) dropped", self.path, len(data) - end)
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        lines = data[:end].split(b"\n")[:-1]
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                op, scope, name, rec = _parse(line)
            except ValueError as exc:
                log.error("%s: line %d is damaged: %s", self.path, number, exc)
                if self.damaged_line is None:
                    self.damaged_line = number
                continue
            key = (scope, name)
            if op == "release":
                self.in_force.pop(key, None)
            elif key not in self.in_force:  # a second engagement keeps the first
                self.in_force[key] = Recorded(scope, name, rec["reason"], float(rec["at"]),
                                              rec.get("automatic") is True)
        return len(lines)

    def _compact(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = b"".join(_line(_engage_record(r.scope, r.name, r.reason, r.at, r.automatic))
                        for r in self.in_force.values())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.path)
        _fsync_dir(self.path.parent)
        # The lock is on the old file's descriptor: move both to the new file.
        new_fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        fcntl.flock(new_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(self._fd)
        self._fd = new_fd
        log.info("%s: compacted to the %d switches in force", self.path, len(self.in_force))

    # -- KillSwitchJournal -----------------------------------------------------------------

    def engaged(self, engagement: Engagement) -> None:
        """Record an engagement (durable when this returns). Raises OSError."""
        key = (engagement.scope, engagement.name)
        if key in self.in_force:
            return  # already on disk; the gate keeps the first engagement too
        at = self._clock()
        self._append(_engage_record(engagement.scope, engagement.name, engagement.reason, at,
                                    engagement.automatic))
        self.in_force[key] = Recorded(engagement.scope, engagement.name, engagement.reason,
                                      at, engagement.automatic)

    def released(self, scope: KillScope, name: str) -> None:
        """Record a release (durable when this returns). Raises OSError."""
        self._append({"op": "release", "scope": scope.value, "name": name,
                      "at": self._clock()})
        self.in_force.pop((scope, name), None)

    def _append(self, record: dict[str, Any]) -> None:
        line = _line(record)
        size = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
            os.fsync(self._fd)
        except OSError:
            # Keep the file a sequence of whole records for the next start.
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                log.error("%s: could not cut off a partial record", self.path)
            raise

    # -- start-up --------------------------------------------------------------------------

    def attach(self, gate: RiskGate,
               monotonic: Callable[[], float] = time.monotonic) -> list[Engagement]:
        """Engage in `gate` every switch the file has in force, then make this file the
        gate's journal. Call before the gate opens (`rebuild_complete`). Returns the
        engagements restored (with the engine-wide one, if the file is damaged)."""
        now_wall, now_mono = self._clock(), monotonic()
        restored = []
        for rec in self.in_force.values():
            # The same wall-clock instant on this run's monotonic clock.
            since = now_mono - max(0.0, now_wall - rec.at)
            restored.append(gate.kill_switch.engage(rec.scope, rec.name, rec.reason, since,
                                                    rec.automatic))
            log.error("kill switch for %s restored from %s (engaged %s: %s)",
                      f"{rec.scope.value} {rec.name}".rstrip(), self.path,
                      time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rec.at)), rec.reason)
        gate.kill_journal = self
        if self.damaged_line is not None:
            reason = DAMAGED.format(path=self.path, line=self.damaged_line)
            restored.append(gate.engage(KillScope.ENGINE, reason=reason, now=now_mono,
                                        automatic=True).engagement)
        return restored

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _engage_record(scope: KillScope, name: str, reason: str, at: float,
                   automatic: bool) -> dict[str, Any]:
    return {"op": "engage", "scope": scope.value, "name": name, "reason": reason, "at": at,
            "automatic": automatic}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
