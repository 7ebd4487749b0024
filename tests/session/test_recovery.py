"""Case 14: killed at any point and restarted, the session never reuses a number and can
answer a ResendRequest for everything it ever sent (JournalStore, real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from fixrouter.codec import FixMessage
from fixrouter.session import Session, SessionConfig
from fixrouter.store import JournalStore

from .conftest import T0, Harness, fields, sent

CONFIG = SessionConfig(sender_comp_id="FIXROUTER", target_comp_id="IB", check_latency=False)


def resend_everything(h: Harness) -> list[FixMessage]:
    out = sent(h.feed(h.msg("2", (7, 1), (16, 0))))
    while h.session.resend_pending:
        out += sent(h.tick())
    return out


def assert_contiguous_cover(out: list[FixMessage], last: int) -> None:
    """Resent messages and GapFills cover 1..last exactly once, in order."""
    position = 1
    for m in out:
        assert int(m[34]) == position, (position, m)
        position = int(m[36]) if m.msg_type == b"4" else position + 1
    assert position == last + 1


def test_14_abandoned_mid_session_then_reopened(tmp_path: Path) -> None:
    stem = tmp_path / "FIX.4.2-FIXROUTER-IB"
    store = JournalStore(stem, now=T0)
    h = Harness(store=store, check_latency=False)
    h.logon()
    for n in range(5):
        h.send_order(f"C{n}")
    h.feed(h.exec_report("C0"), h.exec_report("C1"))
    h.tick(30)  # a Heartbeat takes a number too
    last_sent = h.session.next_sender_seq - 1
    peer_next = h.peer_seq
    store.close()  # what the kernel does at kill -9 in `os` durability: nothing is lost

    reopened = JournalStore(stem, now=T0 + 999)
    h2 = Harness(store=reopened, check_latency=False)
    h2.peer_seq = peer_next
    (logon,) = sent(h2.connect())
    assert int(fields(logon)[34]) == last_sent + 1  # the next unused number
    assert [seq for seq, _ in reopened.iter_inbound()] == [2, 3]
    h2.feed(h2.logon_answer())
    out = resend_everything(h2)
    assert_contiguous_cover(out, last_sent + 1)  # +1: the new Logon
    assert [m.get(11) for m in out if m.msg_type == b"D"] == [b"C%d" % n for n in range(5)]
    reopened.close()


CHILD = textwrap.dedent(
    """
    import sys
    from fixrouter.codec import encode_fields, format_utc_ms
    from fixrouter.session import SendBytes, Session, SessionConfig
    from fixrouter.store import JournalStore

    stem = sys.argv[1]
    now = 1_700_000_000.0
    store = JournalStore(stem, now=now)
    config = SessionConfig(sender_comp_id="FIXROUTER", target_comp_id="IB",
                           check_latency=False)
    session = Session(config, store)
    session.connection_made(now)
    answer = encode_fields([(35, "A"), (49, "IB"), (56, "FIXROUTER"),
                            (34, store.next_target_seq), (52, format_utc_ms(now)),
                            (98, 0), (108, 30)])
    session.receive_data(answer, now)
    out = sys.stdout
    n = 0
    while True:
        n += 1
        body = b"11=K%d\\x0121=2\\x0155=AAPL\\x0154=1\\x0138=1\\x0140=1\\x01100=SMART\\x01" % n
        for action in session.send_app(b"D", body, now):
            if isinstance(action, SendBytes):
                # "On the wire": only after send_app returned, i.e. after the journal write.
                out.write("%d\\n" % int(action.data.split(b"\\x0134=")[1].split(b"\\x01")[0]))
                out.flush()
    """
)


def test_14_sigkill_at_random_moments(tmp_path: Path) -> None:
    stem = tmp_path / "FIX.4.2-FIXROUTER-IB"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    on_wire: list[int] = []
    for round_number in range(3):
        child = subprocess.Popen(
            [sys.executable, str(script), str(stem)], stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert child.stdout is not None
        lines = 0
        deadline = time.monotonic() + 20
        while lines < 200 + 150 * round_number and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            on_wire.append(int(line))
            lines += 1
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()
        on_wire += [int(x) for x in rest.split() if x.isdigit()]
        child.wait()
        assert lines > 0, "child produced nothing"

    assert len(on_wire) == len(set(on_wire)), "a sequence number went on the wire twice"
    store = JournalStore(stem, now=T0)
    h = Harness(store=store, check_latency=False)
    h.peer_seq = store.next_target_seq
    (logon,) = sent(h.connect())
    next_seq = int(fields(logon)[34])
    assert next_seq > max(on_wire)
    h.feed(h.logon_answer())
    out = resend_everything(h)
    assert_contiguous_cover(out, next_seq)
    resent = {int(m[34]) for m in out if m.msg_type == b"D"}
    assert set(on_wire) <= resent  # every order that reached the wire can be resent
    store.close()


def test_session_over_journal_store_reports_tickets(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "s", now=T0)
    session = Session(CONFIG, store)
    (logon,) = session.connection_made(T0)
    assert logon.ticket == store.written_upto() <= store.synced_upto()  # type: ignore[union-attr]
    store.close()
