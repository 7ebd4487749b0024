"""The simulator over loopback: a simplefix peer sends D/F/G/H and checks what comes back.

One simulator process (running fix/scenarios/certification.toml) serves every test in this
module; each test logs on afresh with ResetSeqNumFlag and uses its own ClOrdIDs.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import quickfix

from .conftest import Sim, start_sim
from .peer import Msg, Peer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CERTIFICATION = (REPO / "fix" / "scenarios" / "certification.toml").read_text()
ORDER_ID = re.compile(r"[0-9a-f]{8}\.[0-9a-f]{8}\.[0-9a-f]{8}\.[0-9a-f]{4}")
# Tags every ExecutionReport must carry (ctci.md, FIX 4.2 / IB).
REQUIRED_8 = (37, 17, 20, 39, 150, 151, 55, 54, 38, 32, 31, 14, 6)
_ids = itertools.count(1)
DICTIONARY = quickfix.DataDictionary(str(REPO / "spec" / "fix42-ib.xml"))


def cl(prefix: str = "T") -> str:
    return f"{prefix}{next(_ids):04d}"


def check_report(m: Msg) -> Msg:
    assert m.type == "8"
    missing = [t for t in REQUIRED_8 if t not in m]
    assert not missing, f"missing {missing} in {m}"
    # Account(1) and SecurityType(167) were on every test order and are echoed.
    if m[37] != "NONE":
        assert m.get(1) == "U1234567" and m.get(167) == "STK", m
    return m


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    root = Path(tempfile.mkdtemp(prefix="fxsim", dir="/tmp"))
    s = start_sim(root / "data", CERTIFICATION)
    try:
        yield s
        assert s.stop() == 0, s.stderr()
    finally:
        if s.proc.poll() is None:
            s.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def session(sim: Sim) -> Iterator[tuple[Peer, Msg]]:
    # One logon for the module: QuickFIX can take up to a second to free a session for
    # the next connection, which would dominate the run time.
    p = Peer(sim.port)
    reply = p.logon(reset=True)
    yield p, reply
    p.logout()


@pytest.fixture
def peer(session: tuple[Peer, Msg]) -> Iterator[Peer]:
    p = session[0]
    p.drain(0.05)  # whatever an earlier (failed) test left unread
    p.history.clear()
    yield p
    # Everything the simulator sent must be valid by the project's IB dictionary.
    for m in p.history:
        DICTIONARY.validate(quickfix.Message(m.wire(), DICTIONARY, False))


def test_logon(session: tuple[Peer, Msg]) -> None:
    reply = session[1]
    assert (reply[49], reply[56], reply[108], reply.get(141)) == ("IB", "FIXROUTER", "30", "Y")


def test_limit_order_acked_and_filled_at_limit(peer: Peer) -> None:
    a = cl()
    peer.new_order(a, "AAPL", qty="100", price="190.50")
    ack = check_report(peer.expect("8", t11=a))
    assert (ack[150], ack[39], ack[20], ack[151], ack[14], ack[32], ack[6]) == (
        "0", "0", "0", "100", "0", "0", "0",
    )  # fmt: skip
    assert ORDER_ID.fullmatch(ack[37])
    fill = check_report(peer.expect("8", t11=a))
    assert (fill[150], fill[39], fill[32], fill[31], fill[14], fill[151], fill[6]) == (
        "2", "2", "100", "190.5", "100", "0", "190.5",
    )  # fmt: skip
    assert fill[37] == ack[37] and fill[17] != ack[17]


def test_market_order_fills_at_reference(peer: Peer) -> None:
    a = cl()
    peer.new_order(a, "AAPL", qty="10", price=None)
    peer.expect("8", t11=a, t150="0")
    assert peer.expect("8", t11=a, t150="2")[31] == "190"


def test_partial_fills_spaced(peer: Peer) -> None:
    a = cl()
    peer.new_order(a, "MSFT", qty="100", price="410")
    peer.expect("8", t11=a, t150="0")
    fills = [check_report(peer.expect("8", t11=a)) for _ in range(3)]
    assert [(f[150], f[39], f[32], f[14], f[151]) for f in fills] == [
        ("1", "1", "33", "33", "67"), ("1", "1", "33", "66", "34"), ("2", "2", "34", "100", "0"),
    ]  # fmt: skip
    times = [f[52] for f in fills]
    assert times == sorted(times)
    peer.expect_nothing(0.2)


def test_rejects(peer: Peer) -> None:
    unknown, big, far = cl(), cl(), cl()
    peer.new_order(unknown, "ZZZZ")
    rej = check_report(peer.expect("8", t11=unknown))
    assert (rej[150], rej[39], rej[103]) == ("8", "8", "0")
    assert rej[58] == "No security definition has been found for the request"
    peer.new_order(big, "AAPL", qty="100001")
    assert (peer.expect("8", t11=big)[103], "size limit")[0] == "3"
    peer.new_order(far, "AAPL", price="220")  # 15.8% above 190
    rej = peer.expect("8", t11=far)
    assert (rej[39], rej[103], rej[58]) == ("8", "0", "Limit price too far outside NBBO")
    peer.expect_nothing(0.2)


def test_cancel_resting_order(peer: Peer) -> None:
    a, c = cl(), cl("C")
    peer.new_order(a, "IBM", price="150")
    ack = peer.expect("8", t11=a, t150="0")
    peer.cancel(c, a, "IBM")
    done = check_report(peer.expect("8", t11=c))
    assert (done[150], done[39], done[41], done[37], done[151]) == ("4", "4", a, ack[37], "0")


def test_cancel_rejects(peer: Peer) -> None:
    c = cl("C")
    peer.cancel(c, "never-sent", "IBM")
    rej = peer.expect("9", t11=c)
    assert (rej[41], rej[37], rej[102], rej[434], rej[39]) == ("never-sent", "NONE", "1", "1", "8")
    a, c2 = cl(), cl("C")
    peer.new_order(a, "AAPL")
    peer.expect("8", t11=a, t150="2")
    peer.cancel(c2, a, "AAPL")
    late = peer.expect("9", t11=c2)
    assert (late[102], late[434], late[39]) == ("0", "1", "2")
    assert "Too late" in late[58]


def test_replace_chain(peer: Peer) -> None:
    a, b, c, d = cl(), cl("R"), cl("R"), cl("R")
    peer.new_order(a, "IBM", qty="100", price="150")
    peer.expect("8", t11=a)
    peer.replace(b, a, qty="200", price="149", symbol="IBM")
    r1 = check_report(peer.expect("8", t11=b))
    assert (r1[150], r1[39], r1[41], r1[38], r1[44], r1[151]) == ("5", "0", a, "200", "149", "200")
    peer.replace(c, b, qty="300", price="148", symbol="IBM")
    r2 = peer.expect("8", t11=c)
    assert (r2[150], r2[41], r2[38]) == ("5", b, "300")
    # 41 must be the previous ClOrdID, not the first one.
    peer.replace(d, a, qty="400", price="147", symbol="IBM")
    rej = peer.expect("9", t11=d)
    assert (rej[434], rej[102], rej[41]) == ("2", "2", a)
    assert f"latest is {c}" in rej[58]
    # A cancel on the latest ClOrdID still works.
    x = cl("C")
    peer.cancel(x, c, "IBM", qty="300")
    assert peer.expect("8", t11=x)[41] == c


def test_replace_after_fill_is_too_late(peer: Peer) -> None:
    a, b = cl(), cl("R")
    peer.new_order(a, "AAPL")
    peer.expect("8", t11=a, t150="2")
    peer.replace(b, a, qty="200", price="190")
    rej = peer.expect("9", t11=b)
    assert (rej[434], rej[102]) == ("2", "0")


def test_cancel_between_partial_fills(peer: Peer) -> None:
    a, c = cl(), cl("C")
    peer.new_order(a, "SLOW", qty="10", price="100")
    peer.expect("8", t11=a, t150="0")
    first = peer.expect("8", t11=a, t150="1")
    assert first[32] == "5"
    peer.cancel(c, a, "SLOW", qty="10")
    done = peer.expect("8", t11=c)
    assert (done[39], done[14], done[151]) == ("4", "5", "0")
    peer.expect_nothing(0.6)  # the second partial never comes


def test_status_requests(peer: Peer) -> None:
    a, b = cl(), cl()
    peer.new_order(a, "IBM", price="150")
    peer.new_order(b, "IBM", price="151")
    peer.expect("8", t11=a)
    peer.expect("8", t11=b)
    peer.status(a, "IBM", "1")
    st = check_report(peer.expect("8", t11=a, t20="3"))
    assert (st[150], st[39], st[32], st[31], st[151]) == ("0", "0", "0", "0", "100")
    peer.status("*")
    everything = peer.drain(0.5)
    assert all(m[20] == "3" and m[39] in ("0", "1") for m in everything)
    assert {a, b} <= {m[11] for m in everything}
    peer.status("no-such-order")
    unknown = peer.expect("8", t11="no-such-order")
    assert (unknown[20], unknown[39], unknown[37], unknown[58]) == (
        "3",
        "8",
        "NONE",
        "Unknown order",
    )


def test_possdup_and_possresend_duplicates_are_not_executed_twice(sim: Sim, peer: Peer) -> None:
    a = cl("DUP")
    seq = peer.new_order(a, "AAPL")
    peer.expect("8", t11=a, t150="0")
    peer.expect("8", t11=a, t150="2")
    # A resend under a new sequence number with PossDupFlag (as after a router restart),
    # and one with PossResend.
    peer.new_order(a, "AAPL", poss_dup=True)
    peer.new_order(a, "AAPL", poss_resend=True)
    peer.expect_nothing(0.4)
    # A copy with its original (already seen) sequence number is dropped by QuickFIX itself.
    peer.new_order(a, "AAPL", poss_dup=True, seq=seq)
    peer.expect_nothing(0.2)
    # Reusing the ClOrdID without either flag is a new order with a duplicate ID: rejected.
    peer.new_order(a, "AAPL")
    rej = peer.expect("8", t11=a)
    assert (rej[39], rej[37]) == ("8", "NONE") and "Duplicate" in rej[58]
    ins = [e for e in sim.events() if e["dir"] == "in" and e["cl_ord_id"] == a]
    assert [(e["possdup"], e["possresend"], e["action"]) for e in ins] == [
        (False, False, "executed"),
        (True, False, "duplicate_ignored"),
        (False, True, "duplicate_ignored"),
        (False, False, "duplicate_rejected"),
    ]
    fills = [e for e in sim.events() if e["dir"] == "out" and e["cl_ord_id"] == a
             and e["exec_type"] in ("1", "2")]  # fmt: skip
    assert len(fills) == 1


def test_unsolicited_cancel_trick(peer: Peer) -> None:
    a = cl()
    peer.new_order(a, "UCXL", price="100")
    ack = peer.expect("8", t11=a, t150="0")
    ucxl = check_report(peer.expect("8", t37=ack[37], t150="4"))
    assert 11 not in ucxl and ucxl[39] == "4" and ucxl[151] == "0"
    assert ucxl[58] == "Order canceled: outside regular trading hours"


def test_bust_and_correct_tricks(peer: Peer) -> None:
    a, b = cl(), cl()
    peer.new_order(a, "BUST", qty="100", price="100")
    peer.expect("8", t11=a, t150="0")
    fill = peer.expect("8", t11=a, t150="2")
    bust = check_report(peer.expect("8", t11=a, t20="1"))
    assert (bust[19], bust[32], bust[14], bust[151], bust[39]) == (fill[17], "100", "0", "100", "0")
    assert bust[17] != fill[17]
    peer.new_order(b, "CORR", qty="100", price="100")
    peer.expect("8", t11=b, t150="0")
    fill = peer.expect("8", t11=b, t150="2")
    corr = check_report(peer.expect("8", t11=b, t20="2"))
    assert (corr[19], corr[32], corr[31], corr[14], corr[6], corr[39]) == (
        fill[17], "60", "100.05", "60", "100.05", "1",
    )  # fmt: skip


def test_news_trick(peer: Peer) -> None:
    a = cl()
    peer.new_order(a, "NEWS", price="100")
    news = peer.expect("B")
    assert news[148] == "IB bulletin: NEWS trading halted"
    assert (news[33], news[58]) == ("1", "Trading in NEWS is halted pending news.")


def test_admin_tricks(sim: Sim, peer: Peer) -> None:
    a, b = cl(), cl()
    peer.new_order(a, "IBM", price="150")
    ack = peer.expect("8", t11=a)
    assert sim.admin("fill", cl_ord_id=a, qty="40", price="150.10")["ok"]
    fill = peer.expect("8", t11=a, t150="1")
    assert (fill[32], fill[31], fill[151]) == ("40", "150.1", "60")
    reply = sim.admin("correct", exec_id=fill[17], price="150.2")
    assert reply["ok"], reply
    corr = peer.expect("8", t11=a, t20="2")
    assert (corr[19], corr[31], corr[32]) == (fill[17], "150.2", "40")
    assert sim.admin("bust", cl_ord_id=a)["ok"]
    bust = peer.expect("8", t11=a, t20="1")
    assert (bust[19], bust[14], bust[39]) == (corr[17], "0", "0")
    reply = sim.admin("unsolicited_cancel", order_id=ack[37], text="IB risk")
    assert reply["ok"], reply
    assert peer.expect("8", t37=ack[37], t150="4")[58] == "IB risk"
    assert sim.admin("news", headline="Admin bulletin")["ok"]
    assert peer.expect("B")[148] == "Admin bulletin"
    # Refusals come back as errors, not crashes.
    assert sim.admin("unsolicited_cancel", cl_ord_id=a) == {
        "ok": False, "error": f"order {a} is canceled, not working",
    }  # fmt: skip
    assert not sim.admin("bust", exec_id="nope")["ok"]
    assert "unknown key" in sim.admin("bust", cl_ordid=b)["error"]
    assert "unknown command" in sim.admin("explode")["error"]
    status = sim.admin("status")
    (session,) = status["sessions"]
    assert session["session"] == "FIX.4.2:IB->FIXROUTER" and session["logged_on"]
    order = next(o for o in session["orders"] if o["cl_ord_id"] == a)
    assert (order["status"], order["cum_qty"]) == ("canceled", "0")


def test_unsupported_message_type_is_rejected(peer: Peer) -> None:
    # BusinessMessageReject is in the dictionary but IB would never take one from us.
    peer.send("j", [(45, "1"), (372, "D"), (380, "3")])
    rej = peer.expect("j")
    assert rej[380] == "3"


def test_event_log_records_every_inbound_message(sim: Sim, peer: Peer) -> None:
    a, c = cl(), cl("C")
    seq_new = peer.new_order(a, "IBM", price="150")
    peer.expect("8", t11=a)
    seq_cxl = peer.cancel(c, a, "IBM")
    peer.expect("8", t11=c)
    # The record of a report is written just after QuickFIX sends it.
    sim.wait_event(dir="out", cl_ord_id=c)
    ins = {e["cl_ord_id"]: e for e in sim.events() if e["dir"] == "in"}
    assert ins[a]["seq"] == seq_new and ins[a]["msg_type"] == "D"
    assert ins[a]["action"] == "executed" and ORDER_ID.fullmatch(ins[a]["order_id"])
    assert (ins[c]["seq"], ins[c]["msg_type"], ins[c]["orig_cl_ord_id"], ins[c]["action"]) == (
        seq_cxl, "F", a, "canceled",
    )  # fmt: skip
    outs = [
        e for e in sim.events() if e["dir"] == "out" and e.get("order_id") == ins[a]["order_id"]
    ]
    assert [e["exec_type"] for e in outs] == ["0", "4"]
    for e in sim.events():
        if e["dir"] == "out" and e["msg_type"] == "8":
            assert Decimal(e["cum_qty"]) <= Decimal(e["order_qty"])


def test_exec_ids_unique(sim: Sim) -> None:
    ids = [e["exec_id"] for e in sim.events() if e.get("msg_type") == "8" and e["dir"] == "out"]
    assert len(ids) == len(set(ids)) > 10
