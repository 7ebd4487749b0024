"""logs/settings: the [logging] table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.logs import LoggingSettings


def test_defaults() -> None:
    s = LoggingSettings.from_toml_table({})
    assert (s.level, s.event_log, s.stderr, s.stderr_format, s.fix_log) == \
        ("INFO", None, True, "text", None)


def test_values(tmp_path: Path) -> None:
    s = LoggingSettings.from_toml_table({
        "level": "debug", "levels": {"fixrouter.transport": "WARNING"},
        "event_log": str(tmp_path / "e.jsonl"), "stderr": False, "stderr_format": "json",
        "fix_log": "relative/fix.log",
    })  # fmt: skip
    assert s.level == "DEBUG" and s.levels == {"fixrouter.transport": "WARNING"}
    assert s.fix_log is not None and s.fix_log.is_absolute()
    assert (s.stderr, s.stderr_format) == (False, "json")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"fixlog": "x"}, "unknown key 'fixlog' (did you mean 'fix_log'?)"),
        ({"level": "LOUD"}, "level: expected one of DEBUG"),
        ({"levels": {"a": 3}}, "levels.a: expected one of"),
        ({"levels": "DEBUG"}, "levels: expected a table"),
        ({"event_log": ""}, "event_log: expected a file path"),
        ({"stderr": 1}, "stderr: expected true or false"),
        ({"stderr_format": "xml"}, 'stderr_format: expected "text" or "json"'),
    ],
)
def test_bad_tables_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        LoggingSettings.from_toml_table(table)
