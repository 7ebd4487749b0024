"""logs/fixlog: one message per line, masked, read back by `fixrouter decode`."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

from fixrouter.codec import Encoder, render_fields
from fixrouter.decode import Formatter, decode_stream, read_messages
from fixrouter.dictionary import load_dictionary
from fixrouter.logs import FixLog, Redactor, format_stamp

LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (in|out) ([\w.-]+) (masked )?8=FIX")


def encoder() -> Encoder:
    return Encoder("FIXROUTER", "IB")


def message(seq: int, msg_type: bytes, fields: list[tuple[int, str | int]]) -> bytes:
    return encoder().encode(msg_type, seq, b"20240101-00:00:00.000", render_fields(fields))


def test_lines_round_trip_through_decode(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "fix.log"
    fixlog = FixLog(path, Redactor(["tok-secret"], load_dictionary()), interval=0.01)
    fixlog.start()
    out_tap, in_tap = fixlog.tap("ib-main"), fixlog.tap("ib-2")
    order = message(2, b"D", [(11, "C1"), (55, "AAPL"), (54, 1), (38, 100), (40, 2), (44, "1.5")])
    logon = message(1, b"A", [(98, 0), (108, 30), (554, "hunter2")])
    text = message(3, b"B", [(148, "a|b tok-secret")])
    out_tap(True, logon)
    out_tap(True, order)
    # Inbound bytes arrive as the kernel hands them: split mid-message and glued.
    report = message(7, b"8", [(37, "O1"), (11, "C1"), (150, "0"), (39, "0")])
    both = report + text
    in_tap(False, both[:10])
    in_tap(False, both[10:len(report) + 5])
    in_tap(False, both[len(report) + 5:])
    fixlog.close()

    raw = path.read_bytes()
    lines = raw.splitlines()
    assert len(lines) == 4
    assert all(LINE.match(line) for line in lines), lines
    assert b"hunter2" not in raw and b"tok-secret" not in raw
    assert [LINE.match(line).group(1, 2, 3) for line in lines] == [  # type: ignore[union-attr]
        (b"out", b"ib-main", b"masked "), (b"out", b"ib-main", None),
        (b"in", b"ib-2", None), (b"in", b"ib-2", b"masked "),
    ]
    assert b"\x01" not in lines[1] and b"|35=D|" in lines[1]
    assert b"\x01" in lines[3]  # a message holding '|' keeps its SOH separators

    found = list(read_messages(io.BytesIO(raw)))
    assert [m.msg_type for m in found] == [b"A", b"D", b"8", b"B"]
    assert all(m.problem is None for m in found), [m.problem for m in found]  # all verify
    assert found[0].prefix.endswith("out ib-main masked")
    out = io.StringIO()
    assert decode_stream(io.BytesIO(raw), Formatter(load_dictionary()), out) == 4
    assert "Password(554)=****" in out.getvalue()
    assert "NewOrderSingle (35=D)" in out.getvalue()


def test_fixrouter_decode_reads_the_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "fix.log"
    fixlog = FixLog(path, Redactor())
    fixlog.start()
    fixlog.tap("s")(True, message(1, b"0", []))
    fixlog.close()
    done = subprocess.run([sys.executable, "-m", "fixrouter.cli", "decode", "--compact",
                           str(path)], capture_output=True, text=True, check=True)
    assert "Heartbeat (35=0)" in done.stdout and "NOT VERIFIED" not in done.stdout


def test_a_full_queue_drops_and_says_so(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    fixlog = FixLog(tmp_path / "fix.log", Redactor(), max_pending=2, interval=60)
    fixlog.start()
    tap = fixlog.tap("s")
    for seq in range(1, 6):
        tap(True, message(seq, b"0", []))
    assert fixlog.dropped == 3
    fixlog.close()
    assert len((tmp_path / "fix.log").read_bytes().splitlines()) == 2
    assert "3 entries dropped" in caplog.text


def test_reopens_a_file_moved_away(tmp_path: Path) -> None:
    path = tmp_path / "fix.log"
    fixlog = FixLog(path, Redactor(), interval=0.01)
    fixlog.start()
    tap = fixlog.tap("s")
    tap(True, message(1, b"0", []))
    deadline = time.monotonic() + 5
    while fixlog.written < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.rename(path, tmp_path / "fix.log.1")
    fixlog._checked = 0.0  # do not wait for the once-a-second check
    tap(True, message(2, b"0", []))
    fixlog.close()
    assert len(path.read_bytes().splitlines()) == 1
    assert len((tmp_path / "fix.log.1").read_bytes().splitlines()) == 1


def test_stamp_format() -> None:
    assert format_stamp(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z"
