"""The engine's two logs and the masking they share.

* `eventlog`: the structured event log: JSON lines (orjson) with stable field names
  (`ts`, `level`, `logger`, `event`, then fields), written by a `QueueListener` thread;
* `fixlog`: the FIX message log, one message per line with a UTC timestamp, a direction
  and the session, in a form `fixrouter decode` reads, written by its own thread;
* `redact`: password and token fields (decode's list) and configured secrets, masked;
* `settings`: the `[logging]` table (levels and destinations).
"""

from .eventlog import EventLog, JsonFormatter, TextFormatter
from .fixlog import FixLog, Tap, format_stamp
from .redact import Redactor, secret_tags
from .settings import LoggingSettings

__all__ = [
    "EventLog",
    "FixLog",
    "JsonFormatter",
    "LoggingSettings",
    "Redactor",
    "Tap",
    "TextFormatter",
    "format_stamp",
    "secret_tags",
]
