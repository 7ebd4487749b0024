"""Journal benchmark: append latency, durable latency under group commit, resend rate.

Run: `python tests/bench/bench_journal.py [--records N] [--size B] [--mode os|fsync|both]`

Figures, per mode:
* ``os``: ``save_outbound`` latency (perf_counter_ns around each call; one copy of the
  framed record into the shared mapping, no syscall) and the saturated append rate. About
  one call in ``4096 / record size`` also takes the page fault of a fresh page (the p99),
  and one in ``--grow-chunk / record size`` extends and remaps the file (the max).
* ``fsync`` per record: ``save_outbound`` + ``sync()`` for every record, the naive way.
* ``fsync`` group commit, batch: ``sync()`` after every ``--batch`` appends on one thread.
* ``fsync`` group commit, threaded: what the asyncio adapter does. A worker thread runs
  ``sync()`` back to back while the main thread appends, paced at ``--rate`` records/s and
  then saturated; "durable" latency runs from the append to the end of the first sync whose
  ticket covers it, which is when the transport may send the order.
* resend: ``iter_outbound`` over every record (streamed, CRC re-checked), and recovery
  (reopen, scan, rebuild the index).

The journal lives in ``--dir`` (default: a temporary directory); put it on the disk you
will run on, since fdatasync figures are the disk's, not Python's.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fixrouter.store import Durability, JournalStore


def pct(samples: list[int], q: float) -> float:
    """Quantile of nanosecond samples, in microseconds."""
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))] / 1000.0


def summary(samples_ns: list[int], elapsed_s: float, count: int) -> dict[str, float]:
    return {
        "records": count,
        "rate_per_s": count / elapsed_s if elapsed_s else 0.0,
        "median_us": statistics.median(samples_ns) / 1000.0,
        "p99_us": pct(samples_ns, 0.99),
        "max_us": max(samples_ns) / 1000.0,
    }


def message(size: int) -> bytes:
    head = b"8=FIX.4.2\x019=000\x0135=D\x01"
    return (head + b"x" * max(0, size - len(head)))[:size]


GROW_CHUNK: dict[str, int] = {}  # --grow-chunk, when given


def fresh(root: Path, name: str, mode: Durability) -> JournalStore:
    stem = root / name
    for p in root.glob(name + ".*"):
        p.unlink()
    return JournalStore(stem, now=time.time(), durability=mode, **GROW_CHUNK)


def bench_os(root: Path, n: int, data: bytes) -> dict[str, float]:
    store = fresh(root, "os", Durability.OS)
    save, clock = store.save_outbound, time.perf_counter_ns
    lat = [0] * n
    start = time.perf_counter()
    for i in range(n):
        t = clock()
        save(i + 1, data)
        lat[i] = clock() - t
    elapsed = time.perf_counter() - start
    store.close()
    return summary(lat, elapsed, n)


def bench_fsync_each(root: Path, n: int, data: bytes) -> dict[str, float]:
    store = fresh(root, "each", Durability.FSYNC)
    clock = time.perf_counter_ns
    lat = [0] * n
    start = time.perf_counter()
    for i in range(n):
        t = clock()
        store.save_outbound(i + 1, data)
        store.sync()
        lat[i] = clock() - t
    elapsed = time.perf_counter() - start
    store.close()
    return summary(lat, elapsed, n)


def bench_fsync_batch(root: Path, n: int, data: bytes, batch: int) -> dict[str, float]:
    """One thread: append ``batch`` records, then sync; latency is append to sync end."""
    store = fresh(root, "batch", Durability.FSYNC)
    clock = time.perf_counter_ns
    durable: list[int] = []
    append: list[int] = []
    pending: list[int] = []
    start = time.perf_counter()
    for i in range(n):
        t = clock()
        store.save_outbound(i + 1, data)
        append.append(clock() - t)
        pending.append(t)
        if len(pending) == batch or i == n - 1:
            store.sync()
            done = clock()
            durable.extend(done - p for p in pending)
            pending.clear()
    elapsed = time.perf_counter() - start
    store.close()
    out = summary(durable, elapsed, n)
    out["append_median_us"] = statistics.median(append) / 1000.0
    out["append_p99_us"] = pct(append, 0.99)
    return out


def bench_fsync_threaded(root: Path, n: int, data: bytes, rate: float) -> dict[str, float]:
    """Appends on this thread, syncs on a worker, as the asyncio adapter will do.

    Paced (``rate`` > 0): records fall due every 1/rate s; between them this thread sleeps,
    releasing the GIL the way an event loop idles in epoll, and on waking appends every
    record already due (a burst, like a loop iteration's ready callbacks). Latency runs from
    the record's due time, so lateness counts. Saturated (``rate`` 0): flat out.
    """
    store = fresh(root, "threaded", Durability.FSYNC)
    clock = time.perf_counter_ns
    tickets = [0] * n
    arrived = [0] * n
    append_lat = [0] * n
    synced: list[tuple[int, int]] = []
    wake = threading.Event()
    stop = False

    def syncer() -> None:
        # One sync in flight at a time; each covers everything appended while the previous
        # one ran. The Event stands in for the loop submitting the next sync to an executor.
        while True:
            wake.wait()
            wake.clear()
            while store.synced_upto() < store.written_upto():
                synced.append((store.sync(), clock()))
            if stop:
                return

    worker = threading.Thread(target=syncer)
    worker.start()
    interval = int(1e9 / rate) if rate > 0 else 0
    start_ns = clock()
    i = 0
    while i < n:
        if interval:
            now = clock()
            due = start_ns + i * interval
            if now < due:
                time.sleep((due - now) / 1e9)
                now = clock()
            last_due = min(n, (now - start_ns) // interval + 1)
        else:
            last_due = i + 1
        while i < last_due:
            t = clock()
            store.save_outbound(i + 1, data)
            append_lat[i] = clock() - t
            arrived[i] = start_ns + i * interval if interval else t
            tickets[i] = store.written_upto()
            i += 1
        if not wake.is_set():
            wake.set()
    stop = True
    wake.set()
    worker.join()
    elapsed = (synced[-1][1] - start_ns) / 1e9
    store.close()
    covered = [c for c, _ in synced]
    durable = [synced[bisect.bisect_left(covered, tickets[i])][1] - arrived[i] for i in range(n)]
    out = summary(durable, elapsed, n)
    out["append_median_us"] = statistics.median(append_lat) / 1000.0
    out["append_p99_us"] = pct(append_lat, 0.99)
    out["syncs"] = len(synced)
    out["records_per_sync"] = n / len(synced)
    return out


def bench_resend_and_recover(root: Path, n: int, data: bytes) -> dict[str, float]:
    store = fresh(root, "resend", Durability.OS)
    for i in range(n):
        store.save_outbound(i + 1, data)
        store.incr_next_target_seq()  # heartbeats interleaved, as in a real journal
    size = store.written_upto()
    start = time.perf_counter()
    count = sum(1 for _ in store.iter_outbound(1, 0))
    resend = time.perf_counter() - start
    store.close()
    start = time.perf_counter()
    reopened = JournalStore(root / "resend", now=0.0)
    recover = time.perf_counter() - start
    assert reopened.next_sender_seq == n + 1 and count == n
    reopened.close()
    return {
        "records": n,
        "resend_per_s": n / resend,
        "resend_mb_per_s": size / resend / 1e6,
        "recover_s": recover,
        "recover_records_per_s": 2 * n / recover,
    }


def run(label: str, fn: Callable[[], dict[str, float]], results: dict[str, object]) -> None:
    gc.collect()
    gc.disable()
    try:
        results[label] = fn()
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=160, help="message bytes (default 160)")
    parser.add_argument("--mode", choices=["os", "fsync", "both"], default="both")
    parser.add_argument("--batch", type=int, default=64, help="records per batch commit")
    parser.add_argument("--rate", type=float, default=50_000, help="paced rate, records/s")
    parser.add_argument(
        "--each-records", type=int, default=2000, help="records for the per-record fsync run"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval seconds for the threaded runs (default: Python's 0.005)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to put the journals")
    parser.add_argument(
        "--grow-chunk", type=int, default=None,
        help="bytes the journal is extended ahead of the writer (default: the store's)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if args.grow_chunk is not None:
        GROW_CHUNK["grow_chunk"] = args.grow_chunk
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    root = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=args.dir))
    data = message(args.size)
    n = args.records
    results: dict[str, object] = {
        "records": n,
        "size": args.size,
        "dir": str(root),
        "switch_interval_s": sys.getswitchinterval(),
    }
    try:
        if args.mode in ("os", "both"):
            run("os", lambda: bench_os(root, n, data), results)
        if args.mode in ("fsync", "both"):
            each = min(n, args.each_records)
            run("fsync_each", lambda: bench_fsync_each(root, each, data), results)
            run(
                f"fsync_batch{args.batch}",
                lambda: bench_fsync_batch(root, n, data, args.batch),
                results,
            )
            run(
                f"fsync_threaded_{int(args.rate)}_per_s",
                lambda: bench_fsync_threaded(root, n, data, args.rate),
                results,
            )
            run("fsync_threaded_saturated", lambda: bench_fsync_threaded(root, n, data, 0), results)
        run("resend_recover", lambda: bench_resend_and_recover(root, n, data), results)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return 0
    print(
        f"journal bench: {n} records of {args.size} B in {root} (removed), "
        f"switch interval {sys.getswitchinterval() * 1e3:g} ms"
    )
    for label, figures in results.items():
        if not isinstance(figures, dict):
            continue
        shown = "  ".join(
            f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v:,}" for k, v in figures.items()
        )
        print(f"  {label:<28} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
