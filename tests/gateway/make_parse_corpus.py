"""Write `parse_corpus.jsonl`: request lines and what `gateway/parse` made of each.

`test_parse_equivalence.py` replays the corpus against the current `LineParser`. The lines
come from plain seeded generators (no hypothesis, so the same lines every run, whatever
the hypothesis version): valid or nearly valid `new` orders, and objects drawn from every
field the protocol knows, one it does not, with good values, bad ones, nulls and wrong
types, so the accepted requests and every error code the parser gives are all there.

One JSON object per line: the `line` (latin-1 text of its bytes), the connection's
`strategy`, the `fractional` set's index into `FRACTIONAL`, and the outcome, as `describe`
gives it: `type`, `repr`, `fields` (repr of the dataclass's fields, where the repr hides
one), `req` (repr). The script prints the count per result type and per error code.

Regenerate after a deliberate change to the parser, then review the corpus diff:

    .venv/bin/python -m tests.gateway.make_parse_corpus          # the current parser
    git diff --stat tests/gateway/parse_corpus.jsonl

`--impl MODULE` records another implementation that has a `LineParser` (the corpus was
first written from the parser as it was before its hot path was reworked).
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import random
import string
from dataclasses import astuple, fields, is_dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from fixrouter.gateway.config import GatewayConfig
from fixrouter.requests import SecurityType

CORPUS = Path(__file__).with_name("parse_corpus.jsonl")
SEED = 20261124
CASES = 1500
RECEIVED_NS = 42

FRACTIONAL = [frozenset(), GatewayConfig().fractional_qty,
              frozenset({SecurityType.STK, SecurityType.CASH})]  # fmt: skip
STRATEGIES = ["alpha", "alpha", "alpha", None]  # None: the line comes before `hello`

IDS = ["o-1", "o 1", "", "x" * 64, "x" * 65, "é", "a\x01b", "o-2"]
PRICES: list[Any] = [
    "187.25", "187.250", "0", "0.0", "-1", "1e3", "1.123456789", "1234567890123", " 1",
    "NaN", "100", "000012.5", "1.", ".5", "１", 187.25, 1e-05, 12, 0, -3, True,
]  # fmt: skip
QUANTITIES: list[Any] = [
    100, 0, -1, 10**12, 10**12 - 1, 10_000, 10_001, "100", "100.00", "0.5", "1.123456789",
    "-2", "1e2", 1.5, "abc", None, True,
]  # fmt: skip
FIELDS: dict[str, list[Any]] = {
    "id": IDS,
    "symbol": ["AAPL", "BRK B", " AAPL", "AAPL ", "", "x" * 33, "\x7f"],
    "side": ["buy", "sell", "short", "BUY", "hold"],
    "qty": QUANTITIES,
    "type": ["market", "limit", "stop", "stop_limit", "moc", "loc", "lmt"],
    "price": PRICES,
    "stop_price": PRICES,
    "tif": ["day", "gtc", "ioc", "fok", "opg", "gtd", "DAY"],
    "account": ["U1234567", "U 1", "", "x" * 33],
    "sec_type": ["STK", "CS", "OPT", "FUT", "FOP", "WAR", "CASH", "stk"],
    "currency": ["USD", "usd", "EURO", "E1R"],
    "exchange": ["SMART", "ISLAND", "SM ART", "x" * 17],
    "expire_time": ["20261124-10:22:16", "20261124-10:22:16.123", "20261324-10:22:16",
                    "2026"],
    "expire_date": ["20261124", "20260230", "2026-11-24"],
    "maturity": ["202612", "20261218", "202613", "20260230", "2026"],
    "strike": PRICES,
    "put_or_call": ["put", "call", "P"],
    "multiplier": ["100", 100, "0", "-1", "1.123456789", 2.5],
    "local_symbol": ["AAPL  261218C00200000", " X"],
    "trading_class": ["AAPL", "A A"],
    "security_exchange": ["CBOE", "C B"],
    "capacity": ["customer", "firm", "broker"],
    "open_close": ["open", "close", "O"],
    "force_only_rth": [True, False, 1],
    "what_if": [True, False, "yes"],
    "new_id": IDS,
    "client": ["alpha", "-bad", "x" * 33],
    "token": ["secret", "", 7],
    "req": [1, "r-1", 2**53, "x" * 65, 1.5, None],
    "bogus": list(range(-9, 10)),
    "strategy": ["mallory"],
}
NEW_FIELDS = sorted(set(FIELDS) - {"new_id", "client", "token", "bogus", "strategy"})
OPTION: dict[str, Any] = {"sec_type": "OPT", "maturity": "20261218", "strike": "200",
                          "put_or_call": "call"}  # fmt: skip
OPS: list[Any] = ["new", "cancel", "replace", "status", "orders", "hello", "ping", "nope", 3]
GOOD_CHANGES: dict[str, list[Any]] = {
    "qty": [100, "100", "0.5", 10_000], "price": ["187.25", "3.5", 187.25, "100"],
    "stop_price": ["180", "180.125"], "tif": ["day", "gtc", "ioc"],
}
NOT_OBJECTS = [b"", b"{", b"[]", b"3", b'"new"', b"{}\n", b"\xff", b'{"op":"new"}{}']
SHORT_TEXT = string.ascii_letters + string.digits + " é\x01\x7f\"\\"


def junk(rng: random.Random) -> Any:
    """A value of the wrong kind for most fields: null, bool, number, list, dict, text."""
    kind = rng.randrange(7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-5, 5)
    if kind == 3:
        return rng.choice([0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, rng.uniform(-1e6, 1e6)])
    if kind == 4:
        return [rng.randint(-9, 9) for _ in range(rng.randint(0, 2))]
    if kind == 5:
        return {"".join(rng.choices(SHORT_TEXT, k=rng.randint(0, 2))): rng.randint(-9, 9)
                for _ in range(rng.randint(0, 1))}  # fmt: skip
    return "".join(rng.choices(SHORT_TEXT, k=rng.randint(0, 6)))


def field_value(rng: random.Random, name: str) -> Any:
    """Mostly one of the field's own values, one time in eight anything at all."""
    if rng.randrange(8) == 0 and rng.random() < 0.5:
        return junk(rng)
    return rng.choice(FIELDS[name])


def some_fields(rng: random.Random, names: list[str], most: int) -> list[str]:
    return rng.sample(names, rng.randint(0, most))


def order(rng: random.Random) -> dict[str, Any]:
    """A `new` that is valid, or nearly: a few fields drawn from good and bad values."""
    order_type = rng.choice(["market", "limit", "stop", "stop_limit", "moc", "loc"])
    obj: dict[str, Any] = {"op": "new", "id": "o-1", "symbol": "AAPL", "side": "buy",
                           "qty": 100, "type": order_type}  # fmt: skip
    if order_type in ("limit", "stop_limit", "loc"):
        obj["price"] = rng.choice(["187.25", "3.5", 187.25, "100"])
    if order_type in ("stop", "stop_limit"):
        obj["stop_price"] = rng.choice(["180", "180.125"])
    if rng.random() < 0.5:
        obj.update(OPTION)
    for name in some_fields(rng, NEW_FIELDS, 4):
        obj[name] = field_value(rng, name)
    return obj


def request(rng: random.Random) -> dict[str, Any]:
    """Any op other than `new` with the fields it needs, and sometimes a stray one."""
    op = rng.choice(["cancel", "replace", "replace", "status", "orders", "hello", "ping"])
    obj: dict[str, Any] = {"op": op}
    if op in ("cancel", "replace", "status"):
        obj["id"] = rng.choice(IDS) if rng.random() < 0.3 else "o-1"
    if op == "replace":
        obj["new_id"] = rng.choice(IDS) if rng.random() < 0.3 else "o-2"
        for name in rng.sample(sorted(GOOD_CHANGES), rng.randint(1, 3)):
            obj[name] = field_value(rng, name) if rng.random() < 0.3 \
                else rng.choice(GOOD_CHANGES[name])
    if op == "hello":
        obj["client"] = rng.choice(FIELDS["client"]) if rng.random() < 0.5 else "alpha"
        if rng.random() < 0.5:
            obj["token"] = rng.choice(FIELDS["token"])
    if rng.random() < 0.3:
        obj["req"] = rng.choice(FIELDS["req"])
    if rng.random() < 0.3:
        name = rng.choice(sorted(FIELDS))
        obj[name] = field_value(rng, name)
    return obj


def line(rng: random.Random) -> tuple[bytes, str | None]:
    """A line, and the strategy of the connection it comes on (None: before `hello`)."""
    kind = rng.randrange(20)
    if kind == 0:
        return rng.choice(NOT_OBJECTS), rng.choice(STRATEGIES)
    if kind < 10:
        obj = order(rng)
    elif kind < 14:
        obj = request(rng)
    else:
        obj = {}
        if rng.randrange(10):
            obj["op"] = rng.choice(OPS)
        for name in some_fields(rng, sorted(FIELDS), 10):
            obj[name] = field_value(rng, name)
    strategy = None if obj.get("op") == "hello" and rng.random() < 0.75 \
        else rng.choice(STRATEGIES)
    return orjson.dumps(obj) + rng.choice([b"", b"\n"]), strategy


def cases(seed: int = SEED, count: int = CASES) -> list[tuple[bytes, str | None, int]]:
    """The corpus inputs: (line, strategy, index into FRACTIONAL)."""
    rng = random.Random(seed)
    return [(*line(rng), rng.randrange(len(FRACTIONAL))) for _ in range(count)]


def describe(result: tuple[object, object]) -> dict[str, str]:
    """What a result is, precisely: type name, repr, fields and req, all as reprs (two
    equal `Decimal`s can spell differently on the wire, "1.0" and "1.00").

    A dataclass's fields are kept only when its repr does not already spell them all out
    in the default way (`Hello` hides its token): when it does, equal reprs mean equal
    fields, and the corpus stays small."""
    value, req = result
    described = {"type": type(value).__qualname__, "repr": repr(value)}
    if is_dataclass(value) and described["repr"] != _default_repr(value):
        described["fields"] = repr(astuple(value))  # type: ignore[arg-type]
    described["req"] = repr(req)
    return described


def _default_repr(value: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(value, f.name)!r}" for f in fields(value))
    return f"{type(value).__qualname__}({shown})"


def record(impl: ModuleType, inputs: list[tuple[bytes, str | None, int]]) -> list[str]:
    """One JSON line per input, with the outcome `impl.LineParser` gives."""
    out = []
    for data, strategy, fractional in inputs:
        parser = impl.LineParser(FRACTIONAL[fractional])
        case = {"line": data.decode("latin-1"), "strategy": strategy, "fractional": fractional}
        case.update(describe(parser.parse(data, strategy, RECEIVED_NS)))
        out.append(json.dumps(case, ensure_ascii=False, separators=(",", ":")))
    return out


def coverage(records: list[str]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for text in records:
        case = json.loads(text)
        if case["type"] == "RequestError":
            counts["RequestError:" + case["repr"].split("ErrorCode.")[1].split(":")[0]] += 1
        else:
            counts[case["type"]] += 1
    return dict(sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="fixrouter.gateway.parse",
                        help="module with the LineParser to record (default: the current)")
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args()
    records = record(importlib.import_module(args.impl), cases())
    args.out.write_text("".join(r + "\n" for r in records), encoding="utf-8")
    for name, count in coverage(records).items():
        print(f"{count:6d}  {name}")
    print(f"{len(records)} cases, {args.out.stat().st_size} bytes -> {args.out}")


if __name__ == "__main__":
    main()
