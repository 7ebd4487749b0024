"""oms/positions: average price, realized P&L, recompute after busts, instrument keys."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fixrouter.oms import Position, instrument_key
from fixrouter.oms.positions import Fill, FillWindow
from fixrouter.requests import Derivative, PutOrCall, SecurityType

D = Decimal


def fill(qty: int | str, px: int | str, sign: int = 1, exec_id: str = "E") -> Fill:
    return Fill(exec_id, sign, D(qty), D(px))


def test_add_reduce_flip_close() -> None:
    p = Position("U1", "AAPL")
    p.add(fill(100, 10))
    p.add(fill(300, 14))
    assert (p.qty, p.avg_px, p.realized_pnl) == (400, 13, 0)
    p.add(fill(100, 15, -1))
    assert (p.qty, p.avg_px, p.realized_pnl) == (300, 13, 200)
    p.add(fill(500, 12, -1))  # closes 300 at a loss of 1, opens 200 short at 12
    assert (p.qty, p.avg_px, p.realized_pnl) == (-200, 12, 200 - 300)
    p.add(fill(200, 11))
    assert (p.qty, p.avg_px, p.realized_pnl) == (0, 0, -100 + 200)


def test_recompute_skips_busted_and_uses_corrected() -> None:
    p = Position("U1", "AAPL")
    a, b, c = fill(100, 10), fill(100, 12), fill(50, 20, -1)
    for f in (a, b, c):
        p.add(f)
    b.busted = True
    p.recompute()
    assert (p.qty, p.avg_px, p.realized_pnl) == (50, 10, 500)
    a.qty = D(80)
    p.recompute()
    assert (p.qty, p.avg_px, p.realized_pnl) == (30, 10, 500)
    assert p.view().qty == 30


@given(st.lists(st.tuples(st.integers(1, 1000), st.integers(1, 500), st.sampled_from([1, -1])),
                max_size=30))
def test_quantity_is_the_signed_sum_and_pnl_matches_closing(
    fills: list[tuple[int, int, int]]
) -> None:
    p = Position("U1", "X")
    for qty, px, sign in fills:
        p.add(fill(qty, px, sign))
    assert p.qty == sum(q * s for q, _, s in fills)
    if not p.qty:
        assert p.avg_px == 0
    # Marking everything to a price: realized + unrealized equals the cash flows' P&L.
    mark = D(250)
    cash = sum(-s * q * D(px) for q, px, s in fills)
    assert abs(p.realized_pnl + (mark - p.avg_px) * p.qty - (cash + p.qty * mark)) < D("1e-12")


def test_a_bust_inside_the_window_is_exact_and_outside_it_keeps_the_quantity() -> None:
    window = FillWindow(2)
    p = Position("U1", "AAPL", window)
    a, b, c = fill(100, 10, exec_id="A"), fill(100, 12, exec_id="B"), fill(50, 20, -1, "C")
    for f in (a, b, c):
        p.add(f)
    assert [f.exec_id for f in p.fills] == ["B", "C"]  # A left the window
    assert a.position is None and a.before is None
    assert p.bust(b)  # kept: exact, as if B never happened
    assert (p.qty, p.avg_px, p.realized_pnl) == (50, 10, 500)
    assert not p.bust(a)  # gone: quantity exact, A reversed at its own price
    assert p.qty == -50
    # A fill read back from the journal (another object, same ExecID) is found by ExecID.
    q = Position("U1", "MSFT", FillWindow(8))
    q.add(fill(10, 5, exec_id="X"))
    q.add(fill(10, 7, exec_id="Y"))
    twin = fill(10, 5, exec_id="X")
    assert q.kept(twin) is q.fills[0]
    twin.qty = D(4)
    assert q.correct(twin, D(10), D(5))
    assert (q.qty, q.avg_px) == (14, (4 * 5 + 10 * 7) / D(14))


def test_the_window_is_bounded_across_positions() -> None:
    window = FillWindow(3)
    positions = [Position("U1", s, window) for s in ("A", "B")]
    for i in range(10):
        positions[i % 2].add(fill(1, 10, exec_id=f"E{i}"))
    assert len(window.fills) == 3
    assert sum(len(p.fills) for p in positions) == 3
    assert [p.qty for p in positions] == [5, 5]


def test_instrument_keys() -> None:
    assert instrument_key("AAPL", SecurityType.STK, None) == "AAPL"
    occ = Derivative(local_symbol="AAPL  240119C00150000")
    assert instrument_key("AAPL", SecurityType.OPT, occ) == "AAPL  240119C00150000"
    opt = Derivative(maturity_month_year="202401", maturity_day="19", strike=D("150.0"),
                     put_or_call=PutOrCall.CALL)
    assert instrument_key("AAPL", SecurityType.OPT, opt) == "AAPL:OPT:20240119:150C"
    fut = Derivative(maturity_month_year="202403")
    assert instrument_key("ES", SecurityType.FUT, fut) == "ES:FUT:202403:"
