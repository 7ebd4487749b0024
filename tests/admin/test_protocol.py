"""admin/protocol: request lines parsed into commands, or refused naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixrouter.admin.protocol import (
    BadRequest,
    KillSwitchCommand,
    RefPrice,
    Reload,
    SeqSet,
    SeqShow,
    Status,
    parse_request,
    request_line,
)
from fixrouter.risk import KillScope


def test_every_command_parses() -> None:
    assert parse_request(request_line("status")) == Status()
    assert parse_request(request_line("reload")) == Reload()
    assert parse_request(request_line("seq_show")) == SeqShow()
    assert parse_request(request_line("kill_switch", engage=True, scope="strategy",
                                      name="s1", cancel_all=True, reason="why")) == \
        KillSwitchCommand(True, KillScope.STRATEGY, "s1", True, "why")
    assert parse_request(request_line("kill_switch", engage=False)) == \
        KillSwitchCommand(False, KillScope.ENGINE, "", False)
    assert parse_request(request_line("seq_set", next_in=5)) == SeqSet(None, None, 5)
    assert parse_request(request_line("ref_price", symbol="AAPL", price="190.5")) == \
        RefPrice("AAPL", Decimal("190.5"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"nope", "not a JSON object"),
        (b"[1]", "not a JSON object"),
        (request_line("dance"), "unknown cmd 'dance'"),
        (request_line("status", extra=1), "status: unknown field(s) extra"),
        (request_line("kill_switch", engage="yes"), "engage must be true or false"),
        (request_line("kill_switch", engage=True, scope="desk"), "scope must be one of"),
        (request_line("kill_switch", engage=True, scope="account"), "needs a name"),
        (request_line("kill_switch", engage=True, name="x"), "takes no name"),
        (request_line("kill_switch", engage=False, cancel_all=True), "goes with engaging"),
        (request_line("seq_set"), "give next_out, next_in or both"),
        (request_line("seq_set", next_out=0), "next_out must be an integer of at least 1"),
        (request_line("seq_set", next_in="5"), "next_in must be an integer"),
        (request_line("ref_price", symbol="A", price="-1"), "must be above 0"),
        (request_line("ref_price", symbol="A", price="abc"), "is not a number"),
        (request_line("ref_price", price="1"), "symbol must be"),
    ],
)
def test_bad_requests_say_what_is_wrong(line: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_request(line)
