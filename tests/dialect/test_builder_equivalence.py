"""`dialect/builder` builds exactly the bodies the recorded corpus says, byte for byte.

`builder_corpus.jsonl` holds 900 orders (valid ones, hostile ones: bad strings, odd
decimals, another order type, a dropped price) under three settings, with what the builder
gave before its per-order work was cut for D, G, F and H: the body's bytes, or the
`LocalProtocolError` message it refused with. `make_builder_corpus.py` wrote it; a
deliberate change to a body or a message is made by regenerating the corpus with it and
reviewing the diff.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fixrouter.dialect import Dialect
from fixrouter.requests import NewOrder, OrderType, Side

from .conftest import TT, VALIDATOR
from .make_builder_corpus import CORPUS, MESSAGES, SETTINGS, outcomes


def load() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(text) for text in f]


CASES = load()


def test_the_corpus_covers_every_message_built_and_refused_under_every_setting() -> None:
    seen = {(case["setting"], message, isinstance(case[message], list))
            for case in CASES for message in MESSAGES if message in case}  # fmt: skip
    assert seen == {(setting, message, built) for setting in range(len(SETTINGS))
                    for message in MESSAGES for built in (True, False)}  # fmt: skip


def test_every_body_is_as_recorded() -> None:
    # One Dialect per settings, kept across cases: the shape caches fill as they would in
    # use, and the bare status request is asked again after every case.
    dialects = [Dialect(settings, VALIDATOR) for settings in SETTINGS]
    bare = {case["setting"]: case["H"] for case in CASES if "order" not in case}
    failures = []
    for number, case in enumerate(CASES, 1):
        dialect = dialects[case["setting"]]
        got = outcomes(dialect, case)
        want = {message: case[message] for message in MESSAGES if message in case}
        if got != want:
            differ = [m for m in want if got.get(m) != want[m]]
            failures.append(
                f"corpus line {number}, setting {case['setting']}, "
                f"{', '.join(differ)} differ for order={case.get('order')} "
                f"change={case.get('change')} cl_ord_id={case.get('cl_ord_id')!r} "
                f"order_id={case.get('order_id')!r}:\n"
                + "".join(f"  {m} want {want[m]}\n  {m} got  {got.get(m)}\n" for m in differ)
            )
        if outcomes(dialect, {"setting": case["setting"]}) != {"H": bare[case["setting"]]}:
            failures.append(f"corpus line {number}: the bare status request changed")
    assert not failures, f"{len(failures)} of {len(CASES)} cases differ:\n" + "\n".join(
        failures[:20]
    )


def test_equal_numbers_keep_their_own_spelling() -> None:
    """Numbers' bytes are remembered per object: an equal Decimal spelled otherwise, or
    the same order built again, still renders with its own spelling."""
    dialect = Dialect(SETTINGS[0], VALIDATOR)
    first = NewOrder(strategy="s", id="o", symbol="AAPL", side=Side.BUY, qty=Decimal(100),
                     type=OrderType.LIMIT, price=Decimal("1.5"))  # fmt: skip
    bodies = []
    for price, qty in (("1.5", "100"), ("1.50", "100"), ("1.500", "1E+2"), ("1.5", "100")):
        order = first._replace(price=Decimal(price), qty=Decimal(qty))
        body = dialect.new_order_body(order, "A1", TT)
        assert dialect.new_order_body(order, "A1", TT) == body  # the second time, memoized
        bodies.append(body)
    assert bodies[0] == (
        b"11=A1\x0121=2\x0155=AAPL\x01167=STK\x0154=1\x0138=100\x0140=2\x0144=1.5\x0159=0\x01"
        b"60=20261124-10:22:16.120\x01100=SMART\x0115=USD\x01"
    )
    assert b"44=1.50\x01" in bodies[1] and b"44=1.500\x01" in bodies[2]
    assert b"38=100\x01" in bodies[2]
    assert bodies[0] == bodies[3]
