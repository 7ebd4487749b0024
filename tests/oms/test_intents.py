"""oms/intents: record format, torn tails, corruption, exclusivity, write failures."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.oms import Intent, IntentKind, IntentLog, IntentLogError, MemoryIntentLog
from fixrouter.oms.intents import (
    IntentFormatError,
    decode_line,
    encode_cancel,
    encode_failed,
    encode_new,
    encode_replace,
)

from .conftest import T0, new_order


def test_round_trip_every_kind() -> None:
    req = new_order("str\"at\negy", "id\t1", qty="1.5")  # anything a strategy may send
    lines = [
        encode_new(T0, "231114A-1", req),
        encode_replace(T0 + 1, "231114A-2", "231114A-1", "s", "new"),
        encode_cancel(T0 + 2, "231114A-3", "231114A-2"),
        encode_failed(T0 + 3, "231114A-3", "disconnected"),
    ]
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    got = [decode_line(line[:-1]) for line in lines]
    assert got == [
        Intent(IntentKind.NEW, T0, "231114A-1", strategy="str\"at\negy", id="id\t1",
               symbol="AAPL", side="buy", qty=Decimal("1.5")),
        Intent(IntentKind.REPLACE, T0 + 1, "231114A-2", orig_cl_ord_id="231114A-1",
               strategy="s", id="new"),
        Intent(IntentKind.CANCEL, T0 + 2, "231114A-3", orig_cl_ord_id="231114A-2"),
        Intent(IntentKind.FAILED, T0 + 3, "231114A-3", reason="disconnected"),
    ]


@pytest.mark.parametrize("line", [b"", b"{}", b"[1]", b'["N", 1, "x"]', b'["Q", 1, "x", "y"]',
                                  b'["C", "t", "x", "y"]', b'["N",1,"c","s","i","S","buy","z"]',
                                  b'["C", 1, 2, "y"]'])
def test_bad_lines(line: bytes) -> None:
    with pytest.raises(IntentFormatError):
        decode_line(line)


def test_file_log_reopens_and_truncates_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "s.orders.log"
    with IntentLog(path) as log:
        log.write(encode_cancel(T0, "A-1", "A-0"))
        log.write(encode_cancel(T0, "A-2", "A-1"))
        log.sync()
    whole = path.read_bytes()
    path.write_bytes(whole + b'["C", 17000')
    with IntentLog(path) as log:
        assert log.torn == 1 and log.corrupt == 0
        assert [r.cl_ord_id for r in log.records()] == ["A-1", "A-2"]
        log.write(encode_cancel(T0, "A-3", "A-2"))
    with IntentLog(path) as log:
        assert log.torn == 0
        assert [r.cl_ord_id for r in log.records()] == ["A-1", "A-2", "A-3"]


def test_corrupt_middle_line_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.orders.log"
    path.write_bytes(encode_cancel(T0, "A-1", "A-0") + b"\x00\x00\x00\n"
                     + encode_cancel(T0, "A-2", "A-1"))
    with IntentLog(path) as log:
        assert log.corrupt == 1
        assert [r.cl_ord_id for r in log.records()] == ["A-1", "A-2"]
    assert "unreadable intent record at offset" in caplog.text


def test_second_opener_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.orders.log"
    with IntentLog(path), pytest.raises(IntentLogError, match="in use"):
        IntentLog(path)
    IntentLog(path).close()  # free again once closed


def test_write_after_close_raises(tmp_path: Path) -> None:
    log = IntentLog(tmp_path / "s.orders.log")
    log.close()
    log.close()  # idempotent
    with pytest.raises(IntentLogError):
        log.write(b"[]\n")


def test_write_failure_is_an_intent_log_error(tmp_path: Path) -> None:
    log = IntentLog(tmp_path / "s.orders.log")
    os.close(log._fd)  # the descriptor goes bad under it
    try:
        with pytest.raises(IntentLogError):
            log.write(encode_cancel(T0, "A-1", "A-0"))
    finally:
        log._fd = -1


def test_file_mode_is_private(tmp_path: Path) -> None:
    with IntentLog(tmp_path / "sub" / "s.orders.log") as log:
        assert (log.path.stat().st_mode & 0o777) == 0o600


def test_memory_log_keeps_lines() -> None:
    log = MemoryIntentLog()
    log.write(encode_cancel(T0, "A-1", "A-0"))
    assert [r.cl_ord_id for r in log.records()] == ["A-1"]
    log.fail = True
    with pytest.raises(IntentLogError):
        log.write(b"x\n")


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_find_reads_records_back_newest_first(tmp_path: Path, kind: str) -> None:
    from fixrouter.oms.intents import find_cl, find_id

    log = IntentLog(tmp_path / "s.orders.log") if kind == "file" else MemoryIntentLog()
    log.write(encode_new(T0, "A-1", new_order("alpha", "o1")))
    log.write(encode_new(T0, "A-2", new_order("beta", "o1")))
    log.write(encode_replace(T0, "A-3", "A-1", "alpha", "o1b"))
    log.write(encode_cancel(T0, "A-4", "A-3"))
    log.write(encode_new(T0, "A-5", new_order("alpha", 'we"ird,id')))
    assert [i.cl_ord_id for i in log.find(b'"A-3"')] == ["A-4", "A-3"]
    assert find_cl(log, "A-3") == Intent(IntentKind.REPLACE, T0, "A-3", orig_cl_ord_id="A-1",
                                         strategy="alpha", id="o1b")
    assert find_cl(log, "A-9") is None
    found = find_id(log, "beta", "o1")
    assert found is not None and found.cl_ord_id == "A-2"
    found = find_id(log, "alpha", 'we"ird,id')
    assert found is not None and found.cl_ord_id == "A-5"
    assert find_id(log, "alpha", "A-1") is None


def test_records_read_at_opening_are_handed_over_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.orders.log"
    with IntentLog(path) as log:
        log.write(encode_new(T0, "A-1", new_order()))
    reopened = IntentLog(path)
    try:
        first = reopened.records()
        assert [i.cl_ord_id for i in first] == ["A-1"]
        assert reopened._records is None  # the process keeps no copy
        assert reopened.records() == first  # read again from the file if asked again
    finally:
        reopened.close()
