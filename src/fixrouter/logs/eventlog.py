"""The structured event log: JSON lines, written by a thread so the loop never waits.

Theory of operation
-------------------
Every logger of the process (the engine's `fixrouter.*` ones, asyncio's, the libraries')
reaches the root logger, whose only handler is a `QueueHandler`. On the calling thread
(the event loop, usually) it does the least that keeps the record correct: it merges the
message with its arguments (`record.getMessage()`, so a record never depends on an
object the loop changes afterwards) and renders an exception's traceback if there is
one; then it puts the record on a `SimpleQueue`. A `QueueListener` thread takes records
off the queue and hands them to the real handlers: the JSON file (`event_log`) and
stderr. Serialising, masking secrets and every `write(2)` happen on that thread, so a
slow disk or a blocked stderr pipe delays the log, never the loop.

A level that is off costs one integer comparison in `Logger.isEnabledFor` and nothing
else: calls use `%` arguments, never f-strings, so no message text is built for a
record that is not emitted (house rule 8).

**The JSON line.** One object per line, keys in this order, names stable:

* `ts`: UTC, ISO 8601 with microseconds and `Z` (`2026-11-24T11:25:58.123456Z`);
* `level`: `DEBUG` ... `CRITICAL`;
* `logger`: the logger's name (`fixrouter.transport`, ...);
* `event`: the message;
* then the record's extra fields (`log.info("...", extra={"session": name})`), and
  `exc` with the traceback when there is one.

Secrets never reach a destination: each line is passed through the `Redactor` (the
configured tokens wherever they appear), and an extra field whose name says password,
token or secret is written as `****`.

The file handler is a `WatchedFileHandler`: when logrotate moves the file away, the next
record opens a new one.
"""

from __future__ import annotations

import copy
import logging
import logging.handlers
import queue
import sys
from typing import Any, TextIO

import orjson

from fixrouter.logs.redact import MASK

from .fixlog import format_stamp
from .redact import Redactor, secret_key
from .settings import LoggingSettings

_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        mask = self._redactor.mask_text
        doc: dict[str, Any] = {
            "ts": format_stamp(int(record.created * 1e9)),
            "level": record.levelname,
            "logger": record.name,
            "event": mask(_message(record)),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key not in doc:
                doc[key] = MASK if secret_key(key) else value
        exc = record.exc_text
        if record.exc_info and not exc:
            exc = self.formatException(record.exc_info)
        if exc:
            doc["exc"] = exc
        line = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        # Masked once more as a whole: a secret inside an extra field's value.
        return mask(line)


class TextFormatter(logging.Formatter):
    """The readable one-line form for stderr (journald adds its own timestamp too)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.mask_text(super().format(record))


class LoopQueueHandler(logging.handlers.QueueHandler):
    """Merges the message on the calling thread; formats nothing else there."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        message = _message(record)
        record = copy.copy(record)
        record.msg = message
        record.args = None
        record.message = message
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception as exc:  # a bad format string must not lose the record
        return f"{record.msg!r} (unformattable with {len(record.args or ())} args: {exc})"


class EventLog:
    """Installs the queue on the root logger (`start`) and removes it (`stop`)."""

    def __init__(
        self,
        settings: LoggingSettings,
        redactor: Redactor,
        *,
        level: str | None = None,
        stream: TextIO | None = None,
    ) -> None:
        """`level` overrides `settings.level` (the command line's --log-level)."""
        self.settings = settings
        self._redactor = redactor
        self._level = level or settings.level
        self._stream = stream
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._handler = LoopQueueHandler(self._queue)
        self._targets: list[logging.Handler] = []
        self._listener: logging.handlers.QueueListener | None = None
        self._saved: tuple[list[logging.Handler], int] | None = None

    def start(self) -> None:
        """Open the destinations and start the writer thread. Raises OSError if the
        event log file cannot be opened."""
        settings = self.settings
        if settings.event_log is not None:
            settings.event_log.parent.mkdir(parents=True, exist_ok=True)
            target: logging.Handler = logging.handlers.WatchedFileHandler(
                settings.event_log, encoding="utf-8")
            target.setFormatter(JsonFormatter(self._redactor))
            self._targets.append(target)
        if settings.stderr:
            stream = logging.StreamHandler(self._stream or sys.stderr)
            stream.setFormatter(JsonFormatter(self._redactor) if settings.stderr_format == "json"
                                else TextFormatter(self._redactor))
            self._targets.append(stream)
        self._listener = logging.handlers.QueueListener(
            self._queue, *self._targets, respect_handler_level=False)
        self._listener.start()
        root = logging.getLogger()
        self._saved = (list(root.handlers), root.level)
        for handler in self._saved[0]:
            root.removeHandler(handler)
        root.addHandler(self._handler)
        root.setLevel(self._level)
        for name, level in settings.levels.items():
            logging.getLogger(name).setLevel(level)

    def stop(self) -> None:
        """Write what is queued, close the destinations, restore the root logger."""
        if self._listener is None:
            return
        root = logging.getLogger()
        root.removeHandler(self._handler)
        self._listener.stop()  # processes every record queued before it returns
        self._listener = None
        for target in self._targets:
            target.close()
        self._targets.clear()
        if self._saved is not None:
            handlers, level = self._saved
            for handler in handlers:
                root.addHandler(handler)
            root.setLevel(level)
            self._saved = None
        for name in self.settings.levels:
            logging.getLogger(name).setLevel(logging.NOTSET)
