"""`fixrouter decode` on a log the real simulator wrote (issue 2: "on a simulator log")."""

from __future__ import annotations

import subprocess
import sys

from .conftest import SimFactory


def test_decode_prints_the_simulators_own_message_log_readably(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    peer = sim.peer()
    peer.logon()
    cl_ord_id = "DECODE1"
    peer.new_order(cl_ord_id, symbol="AAPL", qty="100", price="100")
    peer.expect("8", t11=cl_ord_id, t39="2")
    peer.logout()
    log = sim.data_dir / "log" / "FIX.4.2-IB-FIXROUTER.messages.current.log"
    result = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "decode", str(log)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    out = result.stdout
    for expected in (
        "Logon (35=A)",
        "NewOrderSingle (35=D)",
        "ExecutionReport (35=8)",
        f"ClOrdID(11)={cl_ord_id}",
        "OrdStatus(39)=2 (FILLED)",
        "Side(54)=1 (BUY)",
        "HeartBtInt(108)=",
        "Logout (35=5)",
    ):
        assert expected in out, expected
    assert "NOT VERIFIED" not in out  # every frame QuickFIX logged passes our codec
