"""Gateway parse benchmark: one request line -> its typed request (`LineParser.parse`).

Run: `python tests/bench/bench_parse.py [--rounds N] [--batch N] [--json]`

Each figure is the per-line time of a batch of `--batch` calls; the median and p99 are over
`--rounds` batches (see `batched.py`). Lines that carry a price come in two kinds: the same
price on every line, and 50,000 distinct prices in turn, so a price that has not been seen
recently is measured as well as one that has.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from itertools import cycle

import orjson
from batched import arguments, measure_cases, report

from fixrouter.gateway import GatewayConfig
from fixrouter.gateway.parse import LineParser

LIMIT = (
    b'{"op":"new","id":"o-12345","symbol":"AAPL","side":"buy","qty":100,"type":"limit",'
    b'"price":"187.25","tif":"day","account":"U1234567"}\n'
)
MARKET = b'{"op":"new","id":"o-12346","symbol":"MSFT","side":"short","qty":300,"type":"market"}\n'
NUMBER_PRICE = (
    b'{"op":"new","id":"o-12347","symbol":"AAPL","side":"sell","qty":100,"type":"limit",'
    b'"price":187.25,"account":"U1234567"}\n'
)
OPTION = (
    b'{"op":"new","id":"o-12348","symbol":"AAPL","side":"buy","qty":5,"type":"limit",'
    b'"price":"3.45","sec_type":"OPT","maturity":"20261218","strike":"200","put_or_call":"call",'
    b'"multiplier":"100","local_symbol":"AAPL  261218C00200000","trading_class":"AAPL"}\n'
)
CANCEL = b'{"op":"cancel","id":"o-12345"}\n'
BAD_FIELD = b'{"op":"new","id":"o-12349","symbol":"AAPL","side":"buy","qty":100,"type":"lmt"}\n'


def distinct_prices(count: int) -> list[bytes]:
    """`count` limit lines, each with its own price (and id)."""
    return [
        orjson.dumps({
            "op": "new", "id": f"o-{i}", "symbol": "AAPL", "side": "buy", "qty": 100,
            "type": "limit", "price": f"{100 + i / 100:.2f}", "account": "U1234567",
        }) + b"\n"
        for i in range(count)
    ]  # fmt: skip


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()

    parse = LineParser(GatewayConfig().fractional_qty).parse
    spread = cycle(distinct_prices(50_000))

    def fixed(line: bytes) -> Callable[[], object]:
        return lambda: parse(line, "alpha", 1)

    cases: dict[str, Callable[[], object]] = {
        "orjson.loads alone (limit line)": lambda: orjson.loads(LIMIT),
        "new limit, price string": fixed(LIMIT),
        "new limit, 50k distinct prices": lambda: parse(next(spread), "alpha", 1),
        "new limit, price as a JSON number": fixed(NUMBER_PRICE),
        "new market short, defaults": fixed(MARKET),
        "new option, contract fields": fixed(OPTION),
        "cancel": fixed(CANCEL),
        "new with a bad type (error event)": fixed(BAD_FIELD),
    }
    report(measure_cases(cases, args.rounds, args.batch), args.json, "line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
