"""Intent log benchmark: ``IntentLog.write`` latency and append rate, as the book calls it.

Run: `python tests/bench/bench_intents.py [--records N] [--grow-chunk B] [--json]`

Each record is a new-order line built by ``encode_new`` beforehand (the encoding is the
book's cost, not the log's); perf_counter_ns is taken around each ``write``. The log
lives in ``--dir`` (default: a temporary directory, removed afterwards).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from fixrouter.oms import IntentLog
from fixrouter.oms.intents import encode_new
from fixrouter.requests import NewOrder, OrderType, Side, TimeInForce


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--grow-chunk", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-intents-", dir=args.dir))
    n = args.records
    lines = [
        encode_new(time.time(), f"251125A-{i}", NewOrder(
            strategy="alpha", id=f"o{i}", symbol="AAPL", side=Side.BUY, qty=Decimal(100),
            type=OrderType.LIMIT, tif=TimeInForce.DAY, price=Decimal("10"),
            account="U1234567"))
        for i in range(n)
    ]
    kwargs: dict[str, int] = {}
    if args.grow_chunk is not None:
        if "grow_chunk" not in inspect.signature(IntentLog).parameters:
            parser.error("this IntentLog has no grow_chunk")
        kwargs["grow_chunk"] = args.grow_chunk
    try:
        log = IntentLog(root / "bench.orders.log", **kwargs)
        write, clock = log.write, time.perf_counter_ns
        lat = [0] * n
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for i in range(n):
            t = clock()
            write(lines[i])
            lat[i] = clock() - t
        elapsed = time.perf_counter() - start
        gc.enable()
        log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lat.sort()
    out = {
        "records": n,
        "line_bytes": statistics.mean(len(x) for x in lines),
        "rate_per_s": n / elapsed,
        "median_us": lat[n // 2] / 1000.0,
        "p99_us": lat[min(n - 1, int(n * 0.99))] / 1000.0,
        "max_us": lat[-1] / 1000.0,
    }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print("  ".join(f"{k}={v:,.3f}" if isinstance(v, float) else f"{k}={v:,}"
                        for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
