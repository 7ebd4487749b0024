"""Write `builder_corpus.jsonl`: orders, and the bodies `dialect/builder` built of them.

`test_builder_equivalence.py` replays the corpus against the current `Dialect`. The
inputs come from plain seeded generators (no hypothesis, so the same inputs every run,
whatever the hypothesis version), built like `test_property`'s strategies: valid orders of
every type, TIF and security type, with contract details, then made hostile (bad strings,
odd decimals, NaN and infinities), given another order type or stripped of a price; a
replace of each, a cancel and a status request, 300 under each of the three `SETTINGS`.

One JSON object per line. The first line per setting is the bare `status_body()` (no
`order`); every other one has the `setting` (index into `SETTINGS`), the `order` (its
fields that differ from the defaults; decimals as strings, which keep their spelling), the
`change` for the replace, `cl_ord_id`, `order_id`, and the outcome per message type, `D`,
`G`, `F` and `H`: either the body as a list of its fields (split at SOH, latin-1), or
`{"refused": message}` for a `LocalProtocolError`. The script prints the count of built and
refused bodies per message type.

Regenerate after a deliberate change to the builder, then review the corpus diff:

    .venv/bin/python -m tests.dialect.make_builder_corpus          # the current builder
    git diff --stat tests/dialect/builder_corpus.jsonl

`--impl MODULE` records another implementation that has a `Dialect` (the corpus was first
written from the builder as it was before its per-order work was cut).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import enum
import importlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from fixrouter.dialect import DialectSettings
from fixrouter.errors import LocalProtocolError
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)

from .conftest import TT, VALIDATOR

CORPUS = Path(__file__).with_name("builder_corpus.jsonl")
SEED = 20261124
PER_SETTING = 300
SETTINGS = [
    DialectSettings(),
    DialectSettings(default_account="DU1", default_capacity=Capacity.FIRM,
                    send_transact_time=False, max_cl_ord_id_length=20),
    DialectSettings(validate_every_message=True, default_exchange="ISLAND"),
]  # fmt: skip
MESSAGES = ("D", "G", "F", "H")

NEEDS_PRICE = {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LOC}
NEEDS_STOP = {OrderType.STOP, OrderType.STOP_LIMIT}
PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))
# Hostile text: control characters (SOH above all), DEL, Latin-1, wider Unicode.
HOSTILE = PRINTABLE + "\x00\x01\x09\x0a\x1f\x7f\x80éÿĀ€中😀\u200b"
HOSTILE_SAMPLES = ["", "A\x01B", "\x7f", "é", "X" * 65]
DECIMAL_SAMPLES = ["0", "-0", "1E+3", "1e-30", "sNaN", "NaN", "-NaN", "NaN12", "Infinity",
                   "-Infinity", "1E+40", "-1E-40", "0E-7"]  # fmt: skip
CL_ORD_IDS = ["FR1124A000001", "x" * 21, "x" * 65, "", "A\x01B"]
ORDER_IDS = [None, "0001.a", "é"]
TEXTS = ("symbol", "account", "exchange", "currency")
HOSTILE_FIELDS = [*TEXTS, "qty", "price", "stop_price"]

# How a NewOrder, its Derivative and a ReplaceOrder go to JSON and back.
DECIMALS = {"qty", "price", "stop_price", "strike", "multiplier"}
ENUMS: dict[str, type[enum.Enum]] = {
    "side": Side, "type": OrderType, "tif": TimeInForce, "sec_type": SecurityType,
    "capacity": Capacity, "open_close": OpenClose, "put_or_call": PutOrCall,
}  # fmt: skip


def text(rng: random.Random, alphabet: str = PRINTABLE, most: int = 64) -> str:
    """1 to `most` characters, mostly short, sometimes exactly `most`."""
    size = most if rng.random() < 0.03 else rng.randint(1, min(most, 8))
    return "".join(rng.choices(alphabet, k=size))


def hostile_text(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(HOSTILE_SAMPLES)
    size = rng.choice([0, 1, 2, 5, 12, 33, 64, 65, 70]) if rng.random() < 0.3 \
        else rng.randint(1, 6)
    return "".join(rng.choices(HOSTILE, k=size))


def decimal(rng: random.Random, low: int, high: int, places: int) -> Decimal:
    """A decimal in [low, high] with exactly `places` places, across magnitudes."""
    scale = 10**places
    top = min(high * scale, 10 ** rng.randint(1, len(str(high * scale))))
    bottom = max(low * scale, -top)
    return Decimal(rng.randint(bottom, top)).scaleb(-places)


def positive(rng: random.Random) -> Decimal:
    return max(decimal(rng, 0, 10**9, 4), Decimal("0.0001"))


def price(rng: random.Random) -> Decimal:
    return decimal(rng, -(10**6), 10**7, 6)


def any_decimal(rng: random.Random) -> Decimal:
    if rng.random() < 0.4:
        return Decimal(rng.choice(DECIMAL_SAMPLES))
    sign = rng.choice(["", "-"])
    digits = str(rng.randint(0, 10 ** rng.randint(1, 30)))
    return Decimal(f"{sign}{digits}E{rng.randint(-40, 40)}")


def a_date(rng: random.Random) -> datetime.date:
    year = 9999 if rng.random() < 0.05 else rng.randint(2000, 2100)
    return datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))


def a_time(rng: random.Random) -> datetime.datetime:
    return datetime.datetime.combine(a_date(rng), datetime.time()) + datetime.timedelta(
        microseconds=rng.randint(0, 86_400 * 10**6 - 1))


def maybe(rng: random.Random, make: Callable[[], Any]) -> Any:
    return make() if rng.random() < 0.5 else None


def derivative(rng: random.Random, sec_type: SecurityType) -> Derivative | None:
    must_name = sec_type in (SecurityType.OPT, SecurityType.FOP, SecurityType.FUT)
    if not must_name and rng.random() < 0.5:
        return None
    return Derivative(
        maturity_month_year=maybe(rng, lambda: a_date(rng).strftime("%Y%m")),
        maturity_day=maybe(rng, lambda: f"{rng.randint(1, 31):02d}"),
        strike=maybe(rng, lambda: positive(rng)),
        put_or_call=maybe(rng, lambda: rng.choice(list(PutOrCall))),
        multiplier=maybe(rng, lambda: positive(rng)),
        # An option or future must name its contract; LocalSymbol always does.
        local_symbol=text(rng) if must_name or rng.random() < 0.5 else None,
        trading_class=maybe(rng, lambda: text(rng)),
        security_exchange=maybe(rng, lambda: text(rng)),
    )


def valid_order(rng: random.Random) -> NewOrder:
    order_type = rng.choice(list(OrderType))
    tif = rng.choice(list(TimeInForce))
    expire: dict[str, Any] = {}
    if tif is TimeInForce.GTD:
        if rng.random() < 0.5:
            stamp = a_time(rng)
            expire["expire_time"] = stamp.strftime("%Y%m%d-%H:%M:%S") + rng.choice(
                ["", f".{stamp.microsecond // 1000:03d}"])
        else:
            expire["expire_date"] = a_date(rng).strftime("%Y%m%d")
    sec_type = rng.choice(list(SecurityType))
    return NewOrder(
        strategy="s",
        id="o",
        symbol=text(rng),
        side=rng.choice(list(Side)),
        qty=positive(rng),
        type=order_type,
        tif=tif,
        price=price(rng) if order_type in NEEDS_PRICE else None,
        stop_price=price(rng) if order_type in NEEDS_STOP else None,
        account=maybe(rng, lambda: text(rng, most=32)),
        sec_type=sec_type,
        currency=text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3).ljust(3, "X"),
        exchange=text(rng),
        derivative=derivative(rng, sec_type),
        capacity=maybe(rng, lambda: rng.choice(list(Capacity))),
        open_close=maybe(rng, lambda: rng.choice(list(OpenClose))),
        force_only_rth=rng.random() < 0.5,
        what_if=rng.random() < 0.5,
        **expire,
    )


def order(rng: random.Random) -> NewOrder:
    """A valid order, then up to two hostile fields (a string in a text field, a number
    in a numeric one), sometimes another order type, sometimes a price dropped."""
    result = valid_order(rng)
    hostile = {name: hostile_text(rng) if name in TEXTS else any_decimal(rng)
               for name in rng.sample(HOSTILE_FIELDS, rng.choice([0, 0, 1, 2]))}  # fmt: skip
    result = result._replace(**hostile)
    result = result._replace(**dict.fromkeys(
        name for name in ("price", "stop_price") if rng.random() < 0.15))  # fmt: skip
    if rng.random() < 0.25:
        result = result._replace(type=rng.choice(list(OrderType)))
    return result


def change(rng: random.Random) -> ReplaceOrder:
    return ReplaceOrder(
        strategy="s", id="o", new_id="o2",
        qty=maybe(rng, lambda: positive(rng)), price=maybe(rng, lambda: price(rng)),
        stop_price=maybe(rng, lambda: price(rng)),
        tif=maybe(rng, lambda: rng.choice(list(TimeInForce))),
    )  # fmt: skip


def cases(seed: int = SEED, per_setting: int = PER_SETTING) -> list[dict[str, Any]]:
    """The corpus inputs, as JSON-ready dicts: a bare status request per setting first,
    then the orders, their settings shuffled together (each setting's `Dialect` is kept
    across cases, so its shape caches fill as they would in use)."""
    rng = random.Random(seed)
    inputs: list[dict[str, Any]] = [{"setting": i} for i in range(len(SETTINGS))]
    settings = list(range(len(SETTINGS))) * per_setting
    rng.shuffle(settings)
    for setting in settings:
        made, changed = order(rng), change(rng)
        case = {"setting": setting, "order": to_json(made), "change": to_json(changed),
                "cl_ord_id": rng.choice(CL_ORD_IDS) if rng.random() < 0.4 else CL_ORD_IDS[0],
                "order_id": rng.choices(ORDER_IDS, weights=[5, 3, 2])[0]}
        # The JSON must give back exactly the order and change it was made from.
        assert repr(new_order(case["order"])) == repr(made), made
        assert repr(replace_order(case["change"])) == repr(changed), changed
        inputs.append(case)
    return inputs


def to_json(value: NewOrder | ReplaceOrder) -> dict[str, Any]:
    """The fields that differ from the defaults (strategy and ids are constants)."""
    out: dict[str, Any] = {}
    for name, field in zip(value._fields, value, strict=True):
        if name in ("strategy", "id", "new_id") or (
            name in value._field_defaults and field == value._field_defaults[name]
            and type(field) is type(value._field_defaults[name])
        ):
            continue
        out[name] = _plain(asdict(field) if isinstance(field, Derivative) else field)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, Decimal):
        return str(value)  # str(Decimal(s)) keeps s's digits and exponent
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _typed(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        return Derivative(**{k: _typed(k, v) for k, v in value.items()})
    if name in DECIMALS:
        return Decimal(value)
    if name in ENUMS:
        return ENUMS[name](value)
    return value


def new_order(fields: dict[str, Any]) -> NewOrder:
    return NewOrder(strategy="s", id="o", **{k: _typed(k, v) for k, v in fields.items()})


def replace_order(fields: dict[str, Any]) -> ReplaceOrder:
    return ReplaceOrder(strategy="s", id="o", new_id="o2",
                        **{k: _typed(k, v) for k, v in fields.items()})  # fmt: skip


def outcome(build: Callable[[], bytes]) -> list[str] | dict[str, str]:
    """The body as its fields (latin-1, split at SOH, so the trailing SOH leaves a last
    empty string), or the message it was refused with."""
    try:
        body = build()
    except LocalProtocolError as e:
        return {"refused": str(e)}
    return body.decode("latin-1").split("\x01")


def outcomes(dialect: Any, case: dict[str, Any]) -> dict[str, Any]:
    """What `dialect` makes of one corpus case, keyed by message type."""
    if "order" not in case:
        return {"H": outcome(dialect.status_body)}
    order, cl_ord_id, order_id = new_order(case["order"]), case["cl_ord_id"], case["order_id"]
    change = replace_order(case["change"])
    return {
        "D": outcome(lambda: dialect.new_order_body(order, cl_ord_id, TT)),
        "G": outcome(lambda: dialect.replace_body(order, change, cl_ord_id, "FR0", TT,
                                                  order_id=order_id)),
        "F": outcome(lambda: dialect.cancel_body(order, cl_ord_id, "FR0", TT,
                                                 order_id=order_id)),
        "H": outcome(lambda: dialect.status_body(cl_ord_id, order, order_id=order_id)),
    }  # fmt: skip


def dialects(impl: ModuleType) -> list[Any]:
    return [impl.Dialect(settings, VALIDATOR) for settings in SETTINGS]


def record(impl: ModuleType, inputs: list[dict[str, Any]]) -> list[str]:
    built = dialects(impl)
    return [json.dumps({**case, **outcomes(built[case["setting"]], case)},
                       ensure_ascii=False, separators=(",", ":"))
            for case in inputs]  # fmt: skip


def coverage(records: list[str]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for text_ in records:
        case = json.loads(text_)
        for message in MESSAGES:
            if message in case:
                kind = "refused" if isinstance(case[message], dict) else "built"
                counts[f"{message} {kind} (setting {case['setting']})"] += 1
    return dict(sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="fixrouter.dialect",
                        help="module with the Dialect to record (default: the current)")
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args()
    records = record(importlib.import_module(args.impl), cases())
    args.out.write_text("".join(r + "\n" for r in records), encoding="utf-8")
    for name, count in coverage(records).items():
        print(f"{count:6d}  {name}")
    print(f"{len(records)} cases, {args.out.stat().st_size} bytes -> {args.out}")


if __name__ == "__main__":
    main()
