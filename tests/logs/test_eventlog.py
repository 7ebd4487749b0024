"""logs/eventlog: JSON lines with stable fields, written off the calling thread, masked."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import orjson
import pytest

from fixrouter.logs import EventLog, LoggingSettings, Redactor


class Counted:
    """An argument that counts how often it was turned into text."""

    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "counted"


@pytest.fixture
def started(tmp_path: Path):  # type: ignore[no-untyped-def]
    logs: list[EventLog] = []

    def start(**table: object) -> tuple[EventLog, Path, io.StringIO]:
        path = tmp_path / "events.jsonl"
        settings = LoggingSettings.from_toml_table({"event_log": str(path), **table})
        stream = io.StringIO()
        log = EventLog(settings, Redactor(["tok-SECRET"]), stream=stream)
        log.start()
        logs.append(log)
        return log, path, stream

    yield start
    for log in logs:
        log.stop()


def records(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_json_lines_with_stable_fields(started) -> None:  # type: ignore[no-untyped-def]
    log, path, stream = started()
    logger = logging.getLogger("fixrouter.test")
    logger.info("%s: logged on via %s", "ib-main", "127.0.0.1:4000", extra={"session": "ib-main"})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")
    log.stop()
    first, second = records(path)
    assert list(first)[:4] == ["ts", "level", "logger", "event"]
    assert first["level"] == "INFO" and first["logger"] == "fixrouter.test"
    assert first["event"] == "ib-main: logged on via 127.0.0.1:4000"
    assert first["session"] == "ib-main"
    assert isinstance(first["ts"], str) and first["ts"].endswith("Z")  # type: ignore[union-attr]
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]  # type: ignore[operator]
    # stderr gets the readable form of the same records.
    assert "fixrouter.test INFO ib-main: logged on via" in stream.getvalue()


def test_secrets_are_masked_everywhere(started) -> None:  # type: ignore[no-untyped-def]
    log, path, stream = started(stderr_format="json")
    logger = logging.getLogger("fixrouter.test")
    logger.warning("hello line %r", '{"op":"hello","token":"tok-SECRET"}',
                   extra={"token": "tok-other", "note": "has tok-SECRET inside"})
    log.stop()
    text = path.read_text() + stream.getvalue()
    assert "tok-SECRET" not in text and "tok-other" not in text
    (record,) = records(path)
    assert record["token"] == "****" and record["note"] == "has **** inside"


def test_disabled_levels_build_no_text(started) -> None:  # type: ignore[no-untyped-def]
    log, path, _ = started(level="INFO", levels={"fixrouter.noisy": "ERROR"})
    arg = Counted()
    logging.getLogger("fixrouter.test").debug("value %s", arg)
    logging.getLogger("fixrouter.noisy").warning("value %s", arg)
    logging.getLogger("fixrouter.test").info("value %s", arg)
    log.stop()
    assert arg.calls == 1  # only the INFO record was ever formatted
    assert [r["event"] for r in records(path)] == ["value counted"]


def test_writes_happen_on_the_listener_thread(started, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log, _path, _ = started(stderr=False)
    writers: list[int] = []
    (target,) = log._targets
    original = target.emit

    def emit(record: logging.LogRecord) -> None:
        writers.append(threading.get_ident())
        original(record)

    monkeypatch.setattr(target, "emit", emit)
    logging.getLogger("fixrouter.test").error("from the loop thread")
    log.stop()
    assert writers and threading.get_ident() not in writers


def test_stop_restores_the_root_logger(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    log = EventLog(LoggingSettings(stderr=False), Redactor())
    log.start()
    assert root.handlers != before[0]
    log.stop()
    log.stop()
    assert (list(root.handlers), root.level) == before
