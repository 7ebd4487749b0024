"""Dialect benchmark: building IB CTCI bodies, checks included, beside the naive way.

Run: `python tests/bench/bench_dialect.py [--rounds N] [--batch N] [--json]`

Each figure is the per-message time of a batch of `--batch` calls; the median and p99 are
over `--rounds` batches (see `bench_codec.py`). Every dialect figure includes the whole
per-message check (house rule 9); the shape proof ran once, before timing. "Naive" is what
the dialect replaces: typed fields through `render_value` plus a full `validate_outbound`
on every message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal

from batched import arguments, measure_cases, report

from fixrouter.codec import Encoder, Field, render_value
from fixrouter.dialect import Dialect, DialectSettings, OrderTerms
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.requests import (
    Derivative,
    NewOrder,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
)

TT = b"20261124-10:22:16.120"
NOW = 1795000000.123
LIMIT = NewOrder(
    strategy="s1", id="o1", symbol="AAPL", side=Side.BUY, qty=Decimal(100),
    type=OrderType.LIMIT, price=Decimal("190.25"), account="U1234567",
)
MARKET = NewOrder(
    strategy="s1", id="o2", symbol="MSFT", side=Side.SHORT, qty=Decimal(300),
    type=OrderType.MARKET, account="U1234567",
)
OPTION = NewOrder(
    strategy="s1", id="o3", symbol="AAPL", side=Side.BUY, qty=Decimal(5),
    type=OrderType.LIMIT, price=Decimal("3.45"), account="U1234567", sec_type=SecurityType.OPT,
    derivative=Derivative(
        maturity_month_year="202612", maturity_day="18", strike=Decimal(200),
        put_or_call=PutOrCall.CALL, multiplier=Decimal(100),
        local_symbol="AAPL  261218C00200000", trading_class="AAPL",
    ),
)
CHANGE = ReplaceOrder(strategy="s1", id="o1", new_id="o1b", price=Decimal("190.5"))


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()

    validator = CompiledValidator(load_dictionary())
    dialect = Dialect(DialectSettings(), validator)
    paranoid = Dialect(DialectSettings(validate_every_message=True), validator)
    encoder = Encoder("FIXROUTER", "IB")
    terms = OrderTerms.of(LIMIT)
    seq = iter(range(1, 1 << 62))

    def naive() -> bytes:
        fields: list[Field] = [
            (11, "FR1124A000001"), (1, LIMIT.account or ""), (21, "2"), (55, LIMIT.symbol),
            (167, LIMIT.sec_type.value), (54, "1"), (38, LIMIT.qty), (40, "2"),
            (44, LIMIT.price or Decimal(0)), (59, "0"), (60, TT), (100, LIMIT.exchange),
            (15, LIMIT.currency),
        ]
        pairs = [(tag, render_value(tag, value)) for tag, value in fields]
        validator.validate_outbound(b"D", pairs)
        return b"".join([b"%d=%b\x01" % pair for pair in pairs])

    def nos_and_frame() -> bytes:
        body = dialect.new_order_body(LIMIT, "FR1124A000001", TT)
        return encoder.encode(b"D", next(seq), encoder.timestamp(NOW), body)

    cases: dict[str, Callable[[], object]] = {
        "D limit (plain stock order)": lambda: dialect.new_order_body(LIMIT, "FR1124A000001", TT),
        "D market short": lambda: dialect.new_order_body(MARKET, "FR1124A000002", TT),
        "D option, every contract field": lambda: dialect.new_order_body(
            OPTION, "FR1124A000003", TT),
        "F cancel": lambda: dialect.cancel_body(terms, "FR1124A000004", "FR1124A000001", TT),
        "G replace (merge + body)": lambda: dialect.replace_body(
            terms, CHANGE, "FR1124A000005", "FR1124A000001", TT),
        "H status": lambda: dialect.status_body("FR1124A000001", terms),
        "D limit + Encoder.encode (whole frame)": nos_and_frame,
        "D limit, validate_every_message=true": lambda: paranoid.new_order_body(
            LIMIT, "FR1124A000001", TT),
        "D limit, naive (render_value + validate)": naive,
    }
    results = measure_cases(cases, args.rounds, args.batch)  # runs each shape first
    report(results, args.json, "operation")
    if args.json:
        return 0
    nos = results["D limit (plain stock order)"]["median_us"]
    print(f"\ntarget: NOS body incl. checks <= 2 µs ({'met' if nos <= 2 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
