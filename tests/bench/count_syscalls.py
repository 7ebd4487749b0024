"""System calls per order in each `fixrouter bench` run, counted by the kernel.

Run: `python tests/bench/count_syscalls.py [--orders N] [--duration S] [--no-busy-poll]`

It runs the bench's own runs (`fixrouter.bench.runner`: warm-up, paced, acked, one-way) in
this process, and around each run attaches `perf stat` to the engine (this process) with
syscall tracepoints: counting in the kernel costs the engine next to nothing, unlike
`strace`, whose stop per call slows the engine enough to change how many orders share a
loop turn, which is what decides the counts. Needs `perf` and tracepoint access
(`perf_event_paranoid` <= 2 for one's own processes, as on the development machine).

Per order, for each run: `write` to the strategy's gateway socket and to the FIX socket
(filtered by their descriptors), every `write` (the rest is the order book's intent
log), `writev`, `pwrite64` (the journal: outbound messages and, acked, the inbound
ExecutionReports), `read`, and `epoll_pwait` (loop iterations that polled).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import time
from typing import Any

import uvloop

from fixrouter.bench import runner
from fixrouter.bench.runner import BenchOptions, run_bench

_run = runner._Bench._run


def _descriptors(bench: Any) -> tuple[int, int]:
    service = bench.service
    (connection,) = [c for c in service.gateway._connections if c.strategy == "bench"]
    gateway_fd: int = connection._transport.get_extra_info("socket").fileno()
    (session,) = service.engine.sessions.values()
    fix_fd: int = session.transport._line.transport.get_extra_info("socket").fileno()
    return gateway_fd, fix_fd


async def _counted_run(bench: Any, mode: str, command: dict[str, Any], peer: Any = None) -> Any:
    gateway_fd, fix_fd = _descriptors(bench)
    events = [
        ("write, gateway socket", "syscalls:sys_enter_write", f"fd == {gateway_fd}"),
        ("write, FIX socket", "syscalls:sys_enter_write", f"fd == {fix_fd}"),
        ("write, all", "syscalls:sys_enter_write", None),
        ("writev", "syscalls:sys_enter_writev", None),
        ("pwrite64", "syscalls:sys_enter_pwrite64", None),
        ("read", "syscalls:sys_enter_read", None),
        ("epoll_pwait", "syscalls:sys_enter_epoll_pwait", None),
    ]
    argv = ["perf", "stat", "-x", ","]
    for _, event, condition in events:
        argv += ["-e", event] + (["--filter", condition] if condition else [])
    perf = subprocess.Popen([*argv, "-p", str(os.getpid())], stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # perf attaches
    out = await _run(bench, mode, command, peer)
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate()
    counts = [int(line.split(",")[0]) for line in err.splitlines() if line[:1].isdigit()]
    if len(counts) != len(events):
        raise RuntimeError(f"perf stat did not count: {err.strip()}")
    out["syscalls_per_order"] = {
        name: round(count / out["sent"], 3)
        for (name, _, _), count in zip(events, counts, strict=True)
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--no-busy-poll", dest="busy_poll", action="store_false")
    args = parser.parse_args()
    runner._Bench._run = _counted_run  # type: ignore[method-assign]
    options = BenchOptions(
        orders=args.orders, duration=args.duration, late=False, busy_poll=args.busy_poll
    )
    result = uvloop.run(run_bench(options))
    for name, run in result["fixrouter"].items():
        rate = run.get("orders_per_s") or run.get("offered_per_s")
        print(
            f"{name:8} {run['sent']:>8,} orders, {rate:,}/s, per order:",
            json.dumps(run["syscalls_per_order"]),
        )
    if result["problems"]:
        print("problems:", result["problems"])


if __name__ == "__main__":
    main()
