"""No secret reaches any log, after a run that uses them, and the logs are readable.

The engine runs with a configured strategy token (from the environment, as under
systemd), the JSON event log and the FIX message log. The strategy logs on with the
token, another connection offers it under a wrong name and as half a JSON line, and an
order carries it in its id, where the risk gate's denial log line would show it. Then
every log the run wrote (event log, FIX log, stderr) is searched for the token.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable

import orjson
import pytest

from admin.stack import TOKEN, OpsStack  # type: ignore[import-not-found]
from fixrouter.client import BlockingClient, Denied, OrderStatus, RequestRefused

pytestmark = pytest.mark.integration


def test_no_secret_in_any_log_and_both_logs_are_well_formed(
    ops_stack: Callable[..., OpsStack],
) -> None:
    stack = ops_stack()
    client = BlockingClient.connect(stack.url, "secret-strat", token=TOKEN)
    stack.clients.append(client)
    client.new("fill-1", "AAPL", "buy", 10, "limit", price="190")
    client.new(f"id-{TOKEN}", "AAPL", "buy", 100_000, "limit", price="190")  # denied
    events = []
    while len([e for e in events if getattr(e, "status", None) is OrderStatus.FILLED
               or isinstance(e, Denied)]) < 2:
        event = client.next_event(10)
        assert event is not None, events
        events.append(event)
    # The token offered where it does not belong.
    with pytest.raises(RequestRefused):
        BlockingClient.connect(stack.url, "secret-strat", token=TOKEN + "x")
    with socket.create_connection(("127.0.0.1", stack.gateway_port)) as raw:
        raw.sendall(b'{"op":"hello","client":"secret-strat","token":"' + TOKEN.encode() + b'"\n')
        raw.recv(4096)
    assert stack.engine.terminate() == 0

    event_log = stack.event_log.read_bytes()
    fix_log = stack.fix_log.read_bytes()
    stderr = stack.engine.log().encode()
    for name, text in (("event log", event_log), ("FIX log", fix_log), ("stderr", stderr)):
        assert TOKEN.encode() not in text, f"the token is in the {name}"
        assert b"tok-9f3c1d" not in text, f"part of the token is in the {name}"
    # The denial was logged, with the id masked: the masking ran, not just luck.
    records = [orjson.loads(line) for line in event_log.splitlines()]
    assert all(list(r)[:4] == ["ts", "level", "logger", "event"] for r in records)
    assert any("denied secret-strat/id-****" in r["event"] for r in records)
    assert any(r["logger"] == "fixrouter.admin" or r["logger"].startswith("fixrouter.")
               for r in records)

    # The FIX log: Logon, the order, its reports, the Logout; decode reads every line.
    assert b" out default 8=FIX.4.2|9=" in fix_log and b"|35=A|" in fix_log
    assert b"|35=D|" in fix_log and b" in default 8=FIX.4.2|" in fix_log
    decoded = subprocess.run([sys.executable, "-m", "fixrouter.cli", "decode", "--compact",
                              str(stack.fix_log)], capture_output=True, text=True, check=True)
    lines = decoded.stdout.splitlines()
    assert len(lines) == len(fix_log.splitlines())
    assert "NOT VERIFIED" not in decoded.stdout
    assert any("NewOrderSingle (35=D)" in line for line in lines)
    assert any("ExecutionReport (35=8)" in line for line in lines)
