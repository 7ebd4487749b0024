"""The `[logging]` table: levels and destinations of the event log and the FIX log.

```toml
[logging]
level = "INFO"                          # DEBUG, INFO, WARNING, ERROR or CRITICAL
levels = { "fixrouter.transport" = "DEBUG" }   # per-logger overrides
event_log = "/var/log/fixrouter/events.jsonl"  # JSON lines; absent: no file
stderr = true                           # the event log on stderr too (journald)
stderr_format = "text"                  # "text" (one readable line) or "json"
fix_log = "/var/log/fixrouter/fix.log"  # every FIX message in and out; absent: none
```

Every key has a default: INFO to stderr as text, no files. `fixrouter run --log-level`
overrides `level`. Relative paths are taken relative to the working directory and stored
absolute, as the session settings' are. Unknown keys are a `ConfigError` naming the key
(the loader adds `[logging]`).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from fixrouter.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_KEYS = ("level", "levels", "event_log", "stderr", "stderr_format", "fix_log")


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "INFO"
    levels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    event_log: Path | None = None
    stderr: bool = True
    stderr_format: Literal["text", "json"] = "text"
    fix_log: Path | None = None

    @property
    def level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.level]

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> LoggingSettings:
        """Raises ConfigError naming an unknown key or a bad value."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _KEYS:
                hint = difflib.get_close_matches(key, _KEYS, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(f"unknown key {key!r}{suffix} (known: {', '.join(_KEYS)})")
        levels = table.get("levels", {})
        if not isinstance(levels, Mapping):
            raise ConfigError("levels: expected a table of logger name = level")
        stderr = table.get("stderr", True)
        if type(stderr) is not bool:
            raise ConfigError(f"stderr: expected true or false, got {stderr!r}")
        stderr_format = table.get("stderr_format", "text")
        if stderr_format not in ("text", "json"):
            raise ConfigError(f'stderr_format: expected "text" or "json", got {stderr_format!r}')
        return cls(
            level=_level(table.get("level", "INFO"), "level"),
            levels=MappingProxyType({str(k): _level(v, f"levels.{k}") for k, v in levels.items()}),
            event_log=_path(table.get("event_log"), "event_log"),
            stderr=stderr,
            stderr_format=stderr_format,
            fix_log=_path(table.get("fix_log"), "fix_log"),
        )


def _level(value: object, key: str) -> str:
    if not isinstance(value, str) or value.upper() not in LEVELS:
        raise ConfigError(f"{key}: expected one of {', '.join(LEVELS)}, got {value!r}")
    return value.upper()


def _path(value: object, key: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a file path, got {value!r}")
    return Path(os.path.abspath(value))
