"""IntentLog appends through a shared mapping: growth, the zero tail, kill -9, a full disk."""

from __future__ import annotations

import errno
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fixrouter.oms import IntentKind, IntentLog, IntentLogError
from fixrouter.oms.intents import encode_cancel, encode_new, find_cl, find_id
from fixrouter.store import window as window_mod
from killing import kill_while_writing

from .conftest import T0, new_order


def cl(i: int) -> str:
    return f"231114A-{i}"


def line(i: int) -> bytes:
    if i % 3:
        return encode_cancel(T0 + i, cl(i), cl(i - 1))
    # long strategy ids make lines of very different lengths, straddling pages
    return encode_new(T0 + i, cl(i), new_order("s" * (i % 700), f"o{i}"))


def test_round_trip_across_growth_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "s.orders.log"
    with IntentLog(path, grow_chunk=4096) as log:
        for i in range(1, 601):
            log.write(line(i))
        logical = sum(len(line(i)) for i in range(1, 601))
        raw = path.read_bytes()
        assert logical > 20 * 4096
        assert len(raw) > logical and raw[logical:] == bytes(len(raw) - logical)
        found = find_cl(log, cl(300))
        assert found is not None and found.kind is IntentKind.NEW
        found = find_id(log, "s" * 597, "o597")
        assert found is not None and found.cl_ord_id == cl(597)
        assert [i.cl_ord_id for i in log.find(b'"' + cl(600).encode() + b'"')] == [cl(600)]
    assert path.stat().st_size == logical  # a clean close leaves no tail
    with IntentLog(path, grow_chunk=4096) as log:
        assert (log.torn, log.corrupt) == (0, 0)
        first = log.records()
        assert [r.cl_ord_id for r in first] == [cl(i) for i in range(1, 601)]
        log.write(line(601))
        assert [r.cl_ord_id for r in log.records()][-2:] == [cl(600), cl(601)]  # re-read
        assert find_cl(log, cl(601)) is not None


def test_zero_tail_is_preallocation(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.orders.log"
    whole = line(1) + line(2)
    path.write_bytes(whole + bytes(10_000))
    with caplog.at_level(logging.INFO, logger="fixrouter.oms"):
        log = IntentLog(path)
    try:
        assert (log.torn, log.corrupt) == (0, 0)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert "10000 preallocated zero bytes" in caplog.text
        assert path.read_bytes() == whole
        assert [r.cl_ord_id for r in log.records()] == [cl(1), cl(2)]
    finally:
        log.close()


@pytest.mark.parametrize("torn", [
    b'["C",17000',                       # the copy stopped part way
    b'["C",17\0\0\0\0\0\0\0\0",\n',      # its newline was stored before bytes ahead of it
    b'\0\0\0\0\0\0\0\0"A-0"]\n',
])
def test_torn_line_before_zeros_is_torn(tmp_path: Path, torn: bytes) -> None:
    path = tmp_path / "s.orders.log"
    whole = line(1) + line(2)
    path.write_bytes(whole + torn + bytes(5000))
    with IntentLog(path) as log:
        assert (log.torn, log.corrupt) == (1, 0)
        assert path.read_bytes() == whole
        assert [r.cl_ord_id for r in log.records()] == [cl(1), cl(2)]
        log.write(line(3))
    with IntentLog(path) as log:
        assert [r.cl_ord_id for r in log.records()] == [cl(1), cl(2), cl(3)]


def test_full_disk_is_an_intent_log_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.orders.log"
    real = os.posix_fallocate

    def half_then_full(fd: int, offset: int, length: int) -> None:
        real(fd, offset, length // 2)
        raise OSError(errno.ENOSPC, "No space left on device")

    log = IntentLog(path, grow_chunk=4096)
    try:
        log.write(line(1))
        monkeypatch.setattr(window_mod, "_fallocate", half_then_full)
        with pytest.raises(IntentLogError, match="No space left"):
            log.write(encode_new(T0, cl(2), new_order("x" * 5000)))  # past the window
        raw = path.read_bytes()
        assert raw[len(line(1)):] == bytes(len(raw) - len(line(1)))  # nothing half-written
        monkeypatch.setattr(window_mod, "_fallocate", real)
        log.write(line(3))
    finally:
        log.close()
    with IntentLog(path) as again:
        assert (again.torn, again.corrupt) == (0, 0)
        assert [r.cl_ord_id for r in again.records()] == [cl(1), cl(3)]


@pytest.mark.parametrize("chunk", [0, 100, 4097])
def test_grow_chunk_must_be_whole_pages(tmp_path: Path, chunk: int) -> None:
    with pytest.raises(IntentLogError, match="grow_chunk"):
        IntentLog(tmp_path / "s.orders.log", grow_chunk=chunk)


# -- real kill -9 ----------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from fixrouter.oms import IntentLog

    path, first, count, self_kill = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    log = IntentLog(path, grow_chunk=8192)
    out = sys.stdout
    i = first
    while count < 0 or i < first + count:
        log.write(line(i))
        out.write(f"{i}\\n"); out.flush()
        i += 1
    if self_kill == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _script(tmp_path: Path) -> Path:
    import inspect

    script = tmp_path / "child.py"
    head = ("from fixrouter.oms.intents import encode_cancel, encode_new\n"
            "from decimal import Decimal\n"
            "from fixrouter.requests import NewOrder, OrderType, Side, TimeInForce\n"
            f"T0 = {T0!r}\n")
    script.write_text(head + inspect.getsource(cl) + inspect.getsource(new_order)
                      + inspect.getsource(line) + CHILD)
    return script


def _reported(out: bytes) -> list[int]:
    return [int(x) for x in out.decode().split("\n")[:-1] if x.isdigit()]


def test_kill_9_after_writes_keeps_every_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.orders.log"
    script = _script(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for round_ in range(3):
        child = subprocess.run([sys.executable, str(script), str(path), str(round_ * 400 + 1),
                                "400", "1"], stdout=subprocess.PIPE, env=env, timeout=60,
                               check=False)
        assert child.returncode == -signal.SIGKILL
        assert _reported(child.stdout)[-1] == round_ * 400 + 400
        logical = sum(len(line(i)) for i in range(1, round_ * 400 + 401))
        raw = path.read_bytes()
        assert len(raw) > logical and raw[logical:] == bytes(len(raw) - logical)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="fixrouter.oms"), IntentLog(path) as log:
            assert (log.torn, log.corrupt) == (0, 0)
            assert "preallocated zero bytes" in caplog.text
            assert path.stat().st_size == logical
            assert [r.cl_ord_id for r in log.records()] == [
                cl(i) for i in range(1, round_ * 400 + 401)]


def test_kill_9_mid_stream_never_loses_a_returned_write(tmp_path: Path) -> None:
    path = tmp_path / "s.orders.log"
    script = _script(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    rng = random.Random(0x0D5)
    kept = 0
    for round_ in range(5):
        report = tmp_path / f"report{round_}.txt"
        kill_while_writing([sys.executable, str(script), str(path), str(kept + 1), "-1", "0"],
                           report, rng, env)
        last = _reported(report.read_bytes())[-1]
        with IntentLog(path) as log:
            assert log.corrupt == 0 and log.torn <= 1
            got = [r.cl_ord_id for r in log.records()]
        # every reported write, and at most the one that returned unreported
        assert got[: last] == [cl(i) for i in range(1, last + 1)]
        assert len(got) in (last, last + 1)
        kept = len(got)
