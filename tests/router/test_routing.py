"""The router's pieces on their own: [routing], made-up refusal reports, the gate adapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixrouter.codec import Encoder, decode_frame
from fixrouter.errors import ConfigError
from fixrouter.oms import MemoryIntentLog, OrderBook
from fixrouter.requests import CancelOrder, NewOrder, OrderType, Side
from fixrouter.risk import RiskConfig, RiskGate
from fixrouter.routing.config import RoutingConfig
from fixrouter.routing.gate import HELD, PassThroughGate
from fixrouter.routing.rejects import EXEC_ID_PREFIX, find_sent, refusal_report
from fixrouter.routing.risk import RiskGateAdapter
from fixrouter.store import MemoryStore

ORDER = NewOrder("alpha", "o1", "AAPL", Side.BUY, Decimal(10), OrderType.LIMIT,
                 price=Decimal("190"))


def test_routing_defaults_to_the_first_session_and_lettered_prefixes() -> None:
    routes = RoutingConfig.from_toml_table({}).resolve(["desk1", "desk2"])
    assert routes.default_session == "desk1"
    assert dict(routes.prefixes) == {"desk1": "A", "desk2": "B"}
    routes = RoutingConfig.from_toml_table({
        "default_session": "desk2", "strategies": {"momo": "desk1"}, "prefixes": {"desk2": "A"},
    }).resolve(["desk1", "desk2"])
    assert routes.default_session == "desk2"
    assert dict(routes.strategies) == {"momo": ("desk1",)}
    assert dict(routes.prefixes) == {"desk1": "B", "desk2": "A"}  # no clash with a set one


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"default": "x"}, "unknown key 'default'"),
        ({"default_session": 3}, "default_session: expected a session name"),
        ({"strategies": {"momo": 1}}, "strategies.momo: expected a session name"),
        ({"strategies": "momo"}, "strategies: must be a table"),
    ],
)
def test_routing_refuses_bad_tables(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RoutingConfig.from_toml_table(table)


def test_routing_names_a_session_that_is_not_configured() -> None:
    config = RoutingConfig.from_toml_table({"strategies": {"momo": "desk9"}})
    with pytest.raises(ConfigError, match=r"strategies.momo: no session 'desk9' \(sessions: a"):
        config.resolve(["a"])


def _journal(*bodies: tuple[bytes, bytes]) -> MemoryStore:
    store = MemoryStore(now=0)
    encoder = Encoder("FIXROUTER", "IB")
    for seq, (msg_type, body) in enumerate(bodies, 1):
        store.save_outbound(seq, encoder.encode(msg_type, seq, b"20231114-22:13:20", body))
    return store


def test_a_refused_order_becomes_its_reject_report() -> None:
    store = _journal((b"D", b"11=C1\x0155=AAPL\x01"), (b"F", b"11=C2\x0141=C1\x01"),
                     (b"0", b""))
    sent = find_sent(store, 1)
    assert sent is not None
    report = refusal_report(sent, "s1", 1, "session reject: bad tag")
    assert report is not None
    assert (report.msg_type, report.get(11), report.get(150), report.get(39)) == (
        b"8", b"C1", b"8", b"8")
    assert report.get_str(17) == f"{EXEC_ID_PREFIX}s1-1"
    assert report.get(58) == b"session reject: bad tag"
    cancel = find_sent(store, 2)
    assert cancel is not None
    reject = refusal_report(cancel, "s1", 2, "no")
    assert reject is not None
    assert (reject.msg_type, reject.get(11), reject.get(41), reject.get(434)) == (
        b"9", b"C2", b"C1", b"1")
    assert find_sent(store, 3) is None  # not an order message
    assert find_sent(store, 99) is None  # not in the journal


def test_a_refusal_without_clordid_settles_nothing() -> None:
    sent = decode_frame(Encoder("A", "B").encode(b"D", 1, b"20231114-22:13:20", b"55=X\x01"))
    assert refusal_report(sent, "s1", 1, "x") is None


def test_the_pass_through_gate_is_closed_until_rebuilt() -> None:
    gate = PassThroughGate()
    denied = gate.check_new(ORDER, "s1", 0.0)
    assert denied is not None and denied.code == "RISK_STATE_UNKNOWN"  # type: ignore[union-attr]
    assert gate.check_cancel(CancelOrder("alpha", "o1"), "s1", 0.0) is None
    book = OrderBook()
    gate.rebuild(book)
    assert gate.ready and gate.check_new(ORDER, "s1", 0.0) is None


def test_the_risk_adapter_translates_verdicts() -> None:
    config = RiskConfig.from_toml_table({
        "global": {"missing_reference": "warn"},
        "throttle": {"mode": "queue", "rate": 1, "burst": 1},
    })
    adapter = RiskGateAdapter(RiskGate(config))
    denied = adapter.check_new(ORDER, "s1", 0.0)
    assert denied is not None and denied.code == "RISK_STATE_UNKNOWN"  # type: ignore[union-attr]
    book = OrderBook()
    book.add_session("s1", "A", MemoryIntentLog())
    book.rebuild("s1", MemoryStore(now=0))
    adapter.rebuild(book)
    assert adapter.ready
    assert adapter.check_new(ORDER, "s1", 0.0) is None
    assert adapter.check_new(ORDER._replace(id="o2", price=Decimal(189)), "s1", 0.0) is HELD
    withdrawn = adapter.check_cancel(CancelOrder("alpha", "o2"), "s1", 0.0)
    assert withdrawn is not None and withdrawn.order.id == "o2"  # type: ignore[union-attr]
    big = adapter.check_new(ORDER._replace(id="o3", qty=Decimal(5000)), "s1", 0.0)
    assert big is not None and big.code == "MAX_ORDER_QTY" and big.id == "o3"  # type: ignore[union-attr]
    assert adapter.take_engagements() == ()
