"""The garbage collector's share of the order path at saturation, in one process.

Run: `.venv/bin/python tests/bench/bench_gc.py --policy earlier|idle|none [--orders N]`

The production assembly of `tests/router/bench_router.py` (risk gate, order book with
its intent log, dialect, session, `os` journal, a fake socket), fed JSON lines through a
gateway connection `--batch` at a time per loop turn, as a saturated engine reads them;
every order rests, as in `fixrouter bench`'s saturated runs. Reported: the loop thread's
CPU time per order (`time.thread_time_ns`, so time the process spent descheduled on a
shared machine does not count), and the collections with their CPU time, by generation,
from `gc.callbacks`.

Policies, applied after start-up:
- `earlier`: the policy before `gc_policy.GcPolicy` (freeze, thresholds 10,000 / 10 /
  never full);
- `idle`: `GcPolicy`, its `turn` called once per loop turn as the busy poller does (busy
  throughout: the loop never idles in this script);
- `none`: the collector disabled after the freeze (the floor, not a policy).

Run each policy in its own process, alternately, and compare medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "router"))
from bench_router import CONFIG, ready_to_trade

from fixrouter.gc_policy import GcPolicy
from fixrouter.routing.service import RouterService, load


class GcTrace:
    """Collections by generation, with their thread CPU time."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.cpu_ns = [0, 0, 0]
        self._t0 = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.thread_time_ns()
        else:
            g = info["generation"]
            self.count[g] += 1
            self.cpu_ns[g] += time.thread_time_ns() - self._t0


async def measure(policy_name: str, orders: int, batch: int, workdir: Path) -> dict[str, Any]:
    config_path = workdir / "router.toml"
    config_path.write_text(CONFIG.format(store=workdir / "store"))
    service = RouterService(load(config_path))
    loop = asyncio.get_running_loop()
    trace = GcTrace()
    policy: GcPolicy | None = None
    try:
        router = service.router
        fake, connection = await ready_to_trade(service, loop)
        lines = [
            b'{"op":"new","id":"o%d","symbol":"AAPL","side":"buy","qty":%d,'
            b'"type":"limit","price":"%s","account":"U1234567"}\n'
            % (i, 100 + (i // 800) % 100, f"{186 + (i % 800) / 100:.2f}".encode())
            for i in range(orders)
        ]
        if policy_name == "earlier":
            gc.collect()
            gc.freeze()
            gc.set_threshold(10_000, 10, 1_000_000_000)
        elif policy_name == "idle":
            policy = GcPolicy()
            policy.install()
        else:
            gc.collect()
            gc.freeze()
            gc.disable()
        gc.callbacks.append(trace)
        accepted = router.stats.accepted
        turn = policy.turn if policy is not None else None
        cpu0 = time.thread_time_ns()
        for start in range(0, orders, batch):
            connection.data_received(b"".join(lines[start:start + batch]))
            if turn is not None:
                turn(time.monotonic_ns())
            await asyncio.sleep(0)
        cpu = time.thread_time_ns() - cpu0
        gc.callbacks.remove(trace)
        sent = router.stats.accepted - accepted
        assert sent == orders and fake.stamps, (sent, router.stats.denied)
        out: dict[str, Any] = {
            "policy": policy_name, "orders": orders,
            "cpu_us_per_order": round(cpu / orders / 1000, 3),
            "gc_collections": trace.count,
            "gc_cpu_us_per_order": [round(c / orders / 1000, 3) for c in trace.cpu_ns],
        }
        if policy is not None:
            out["policy_stats"] = {"collections": policy.stats.collections,
                                   "freezes": policy.stats.freezes}
            policy.uninstall()
        return out
    finally:
        gc.enable()
        await service.gateway.close()
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=("earlier", "idle", "none"), required=True)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as tmp:
        result = uvloop.run(measure(args.policy, args.orders, args.batch, Path(tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
