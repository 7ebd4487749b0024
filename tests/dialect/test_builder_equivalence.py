"""`dialect/builder` builds exactly the bodies it built before its per-order work was cut.

The reference is the earlier builder itself, frozen in `reference_builder.py`. For valid
orders, hostile ones (bad strings, odd decimals) and replaces, cancels and status requests
of them, under several settings, both must give the same bytes, or both refuse with the
same `LocalProtocolError` message.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.errors import LocalProtocolError
from fixrouter.requests import Capacity, NewOrder, OrderType, ReplaceOrder, Side, TimeInForce

from . import reference_builder
from .conftest import TT, VALIDATOR
from .test_property import any_decimal, hostile_text, positive, prices, valid_orders

SETTINGS = [
    DialectSettings(),
    DialectSettings(default_account="DU1", default_capacity=Capacity.FIRM,
                    send_transact_time=False, max_cl_ord_id_length=20),
    DialectSettings(validate_every_message=True, default_exchange="ISLAND"),
]  # fmt: skip
# One pair per settings, kept across examples: the shape caches fill as they would in use.
PAIRS = [(Dialect(s, VALIDATOR), reference_builder.Dialect(s, VALIDATOR)) for s in SETTINGS]


def outcome(build: Callable[[], bytes]) -> tuple[str, bytes | str]:
    try:
        return "body", build()
    except LocalProtocolError as e:
        return "refused", str(e)


def same(new: Callable[[], bytes], old: Callable[[], bytes]) -> None:
    assert outcome(new) == outcome(old)


changes = st.builds(
    ReplaceOrder,
    strategy=st.just("s"), id=st.just("o"), new_id=st.just("o2"),
    qty=st.none() | positive, price=st.none() | prices, stop_price=st.none() | prices,
    tif=st.none() | st.sampled_from(TimeInForce),
)  # fmt: skip


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=valid_orders(),
    hostile=st.dictionaries(
        st.sampled_from(["symbol", "account", "exchange", "currency", "qty", "price",
                         "stop_price"]),
        hostile_text | any_decimal, max_size=2,
    ),
    change=changes,
    cl_ord_id=st.sampled_from(["FR1124A000001", "x" * 21, "x" * 65, "", "A\x01B"]),
    order_id=st.none() | st.sampled_from(["0001.a", "é"]),
    which=st.sampled_from(range(len(PAIRS))),
    order_type=st.none() | st.sampled_from(OrderType),
    dropped=st.sets(st.sampled_from(["price", "stop_price"])),
)
def test_every_body_is_byte_identical_to_the_reference(
    order: NewOrder, hostile: dict[str, Any], change: ReplaceOrder, cl_ord_id: str,
    order_id: str | None, which: int, order_type: OrderType | None, dropped: set[str],
) -> None:
    # A hostile string goes in a text field, a hostile number in a numeric one; another
    # order type or a dropped price breaks the price rules.
    texts = {"symbol", "account", "exchange", "currency"}
    order = order._replace(**{
        k: v for k, v in hostile.items() if isinstance(v, str) == (k in texts)
    })  # fmt: skip
    order = order._replace(**dict.fromkeys(dropped))
    if order_type is not None:
        order = order._replace(type=order_type)
    new, old = PAIRS[which]
    same(lambda: new.new_order_body(order, cl_ord_id, TT),
         lambda: old.new_order_body(order, cl_ord_id, TT))
    same(lambda: new.replace_body(order, change, cl_ord_id, "FR0", TT, order_id=order_id),
         lambda: old.replace_body(order, change, cl_ord_id, "FR0", TT, order_id=order_id))
    same(lambda: new.cancel_body(order, cl_ord_id, "FR0", TT, order_id=order_id),
         lambda: old.cancel_body(order, cl_ord_id, "FR0", TT, order_id=order_id))
    same(lambda: new.status_body(cl_ord_id, order, order_id=order_id),
         lambda: old.status_body(cl_ord_id, order, order_id=order_id))
    same(lambda: new.status_body(), lambda: old.status_body())


def test_equal_numbers_keep_their_own_spelling() -> None:
    """Numbers' bytes are remembered per object: an equal Decimal spelled otherwise, or
    the same order built again, still renders exactly as the reference does."""
    new, old = PAIRS[0]
    first = NewOrder(strategy="s", id="o", symbol="AAPL", side=Side.BUY, qty=Decimal(100),
                     type=OrderType.LIMIT, price=Decimal("1.5"))  # fmt: skip
    bodies = []
    for price, qty in (("1.5", "100"), ("1.50", "100"), ("1.500", "1E+2"), ("1.5", "100")):
        order = first._replace(price=Decimal(price), qty=Decimal(qty))
        for _ in range(2):  # the second time from the memo
            body = new.new_order_body(order, "A1", TT)
            assert body == old.new_order_body(order, "A1", TT)
        bodies.append(body)
    assert b"44=1.50\x01" in bodies[1] and b"44=1.500\x01" in bodies[2]
    assert b"38=100\x01" in bodies[2]
    assert bodies[0] == bodies[3]
