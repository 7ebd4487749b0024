"""gateway/encode: the event lines equal those of the plain spelling the fast paths replaced
(`.value` of the enums, `int()` and a comparison for every quantity)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixrouter.events import ExecKind, Execution, OrderState, OrderStatus
from fixrouter.gateway.encode import encode_event, price_text, qty_json

QUANTITIES = ["0", "-0", "0.000", "0E+3", "0E-7", "-0.00", "1", "100", "100.0", "1E+2",
              "0.5", "-3", "12.340", "1E-9", "123456789012345678"]  # fmt: skip


def reference_qty(value: Decimal) -> int | str:
    integral = int(value)
    if integral == value:
        return integral
    return price_text(value)


def reference_exec(e: Execution) -> bytes:
    out: dict[str, Any] = {
        "ev": "exec", "id": e.id, "exec_type": e.exec_type.value, "status": e.status.value,
        "last_qty": reference_qty(e.last_qty), "last_px": price_text(e.last_px),
        "cum_qty": reference_qty(e.cum_qty), "leaves_qty": reference_qty(e.leaves_qty),
        "avg_px": price_text(e.avg_px), "exec_id": e.exec_id, "order_id": e.order_id,
    }  # fmt: skip
    if e.reason is not None:
        out["reason"] = e.reason
    return orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE)


@pytest.mark.parametrize("text", QUANTITIES)
def test_qty_json_equals_the_reference(text: str) -> None:
    got, want = qty_json(Decimal(text)), reference_qty(Decimal(text))
    assert (type(got), got) == (type(want), want)


def test_qty_json_still_refuses_what_it_cannot_spell() -> None:
    for bad in ("NaN", "sNaN", "Infinity"):
        with pytest.raises((ValueError, OverflowError)):
            reference_qty(Decimal(bad))
        with pytest.raises((ValueError, OverflowError)):
            qty_json(Decimal(bad))


@pytest.mark.parametrize("kind", list(ExecKind))
@pytest.mark.parametrize("status", list(OrderStatus))
def test_exec_lines_equal_the_reference(kind: ExecKind, status: OrderStatus) -> None:
    for last, cum, leaves, reason in [("0", "0", "100", None), ("40", "40", "60.0", "x"),
                                      ("0.5", "-0", "0E+2", None)]:
        e = Execution("o1", kind, status, Decimal(last), Decimal("190.25"), Decimal(cum),
                      Decimal(leaves), Decimal("1E+2"), "E1", "O1", reason)
        assert encode_event(e) == reference_exec(e)
        line = orjson.loads(encode_event(e))
        assert type(line["exec_type"]) is str and type(line["status"]) is str


@pytest.mark.parametrize("status", list(OrderStatus))
def test_status_lines_spell_the_status(status: OrderStatus) -> None:
    state = OrderState("o1", "C1", "AAPL", "buy", status, Decimal(100), Decimal(0),
                       Decimal(100), Decimal(0), Decimal("190.25"))
    assert orjson.loads(encode_event(state))["status"] == status.value


_TEXTS = st.text(max_size=12) | st.sampled_from(
    ["o1", "E1", "", '"', "\\", "a\"b", "tab\there", "\x00", "\x1f", "\x7f", "é", "€", "\u2028",
     "\ud800", "/", "%s", "%", "\n"])  # fmt: skip
_NUMBERS = st.sampled_from([
    *QUANTITIES, "190.25", "1E+30", "-1E+25", "18446744073709551615", "18446744073709551616",
    "-9223372036854775808", "-9223372036854775809", "NaN", "Infinity", "-0.0001"])  # fmt: skip


def _outcome(fn: Any) -> tuple[str, object]:
    try:
        return "ok", fn()
    except Exception as exc:  # the same failure, or the same bytes
        return "raised", type(exc).__name__


@given(id_=_TEXTS, exec_id=_TEXTS, order_id=_TEXTS, reason=st.none() | _TEXTS,
       kind=st.sampled_from(list(ExecKind)), status=st.sampled_from(list(OrderStatus)),
       numbers=st.tuples(*[_NUMBERS] * 5))
@settings(max_examples=3000)
def test_exec_lines_equal_orjson_for_any_text_and_number(
    id_: str, exec_id: str, order_id: str, reason: str | None, kind: ExecKind,
    status: OrderStatus, numbers: tuple[str, ...],
) -> None:
    """An exec line is orjson's spelling of the reference dict for any strings (escapes,
    non-ASCII) and numbers (beyond 64 bits, not finite), failures included."""
    last, px, cum, leaves, avg = (Decimal(n) for n in numbers)
    e = Execution(id_, kind, status, last, px, cum, leaves, avg, exec_id, order_id, reason)
    assert _outcome(lambda: encode_event(e)) == _outcome(lambda: reference_exec(e)), e
