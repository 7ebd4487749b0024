"""`gateway/parse` gives exactly what the recorded corpus says, line for line.

`parse_corpus.jsonl` holds 1,500 lines (valid orders and requests of every op, and lines
that get every error code the parser gives) with the outcome the parser gave before its
hot path was reworked: type, repr, fields and `req`, compared as reprs because two equal
`Decimal`s can spell differently on the wire ("1.0" and "1.00"). `make_parse_corpus.py`
wrote it; a deliberate change to a result or a reason is made by regenerating the corpus
with it and reviewing the diff.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

from fixrouter.gateway import parse
from fixrouter.gateway.parse import MEMO_LIMIT, LineParser
from fixrouter.requests import NewOrder, OrderType, Side

from .make_parse_corpus import CORPUS, FRACTIONAL, RECEIVED_NS, describe

OUTCOME = ("type", "repr", "fields", "req")


def load() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(text) for text in f]


CASES = load()


def test_the_corpus_covers_every_result_type_and_error_code() -> None:
    types = {case["type"] for case in CASES}
    assert types >= {"NewOrder", "CancelOrder", "ReplaceOrder", "StatusQuery", "OrdersQuery",
                     "Hello", "Ping", "RequestError"}  # fmt: skip
    codes = {case["repr"].split("ErrorCode.")[1].split(":")[0]
             for case in CASES if case["type"] == "RequestError"}  # fmt: skip
    assert codes == {"BAD_JSON", "NOT_OBJECT", "MISSING_FIELD", "UNKNOWN_FIELD", "BAD_VALUE",
                     "UNKNOWN_OP", "NOT_HELLO", "ALREADY_HELLO"}  # fmt: skip


def test_every_line_parses_as_recorded() -> None:
    parsers = [LineParser(fractional) for fractional in FRACTIONAL]
    failures = []
    for number, case in enumerate(CASES, 1):
        line = case["line"].encode("latin-1")
        want = {key: case[key] for key in OUTCOME if key in case}
        parser = parsers[case["fractional"]]
        # The second time, the price, symbol and account memos answer: the same again.
        for attempt in ("first", "second"):
            got = describe(parser.parse(line, case["strategy"], RECEIVED_NS))
            if got != want:
                failures.append(
                    f"corpus line {number} ({attempt} parse), strategy={case['strategy']!r}, "
                    f"fractional={case['fractional']}: {line!r}\n  want {want}\n  got  {got}"
                )
                break
    assert not failures, f"{len(failures)} of {len(CASES)} lines differ:\n" + "\n".join(
        failures[:20]
    )


def test_full_memos_are_emptied_and_results_stay_right() -> None:
    parser = LineParser()
    for i in range(MEMO_LIMIT + 10):
        price = f"{i + 1}.{i % 100:02d}"
        line = orjson.dumps({"op": "new", "id": "o", "symbol": f"S{i}", "side": "buy",
                             "qty": 1, "type": "limit", "price": price,
                             "account": f"U{i}"})  # fmt: skip
        want = NewOrder(strategy="s", id="o", symbol=f"S{i}", side=Side.BUY, qty=Decimal(1),
                        type=OrderType.LIMIT, price=Decimal(price), account=f"U{i}",
                        received_ns=1)  # fmt: skip
        got, req = parser.parse(line, "s", 1)
        assert (repr(got), req) == (repr(want), None), line
    for memo in (parse._PRICES, parse._SYMBOLS, parse._ACCOUNTS):
        assert 0 < len(memo) <= MEMO_LIMIT

