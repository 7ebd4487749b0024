"""Crash test: `kill -9` the router at random moments while it streams orders to QuickFIX.

The router streams NewOrderSingles from a test feed through its real session and journal
to the QuickFIX simulator, and is killed with SIGKILL at least `KILLS` times while the
stream is still running, alternating `os` and `fsync` durability. After each kill it is
simply started again, as systemd would. The kills are of two kinds, alternating:

* from outside, `kill -9` at a random time after start (before, during or after its logon,
  in the middle of resends);
* from inside, `--test-crash-after N` with a random N: the router SIGKILLs itself right
  after handing the Nth order to the session, when the order is journaled but not yet on
  the wire. That is the instant write-before-send is for, and a random outside kill lands
  in it only by rare luck (it lasts microseconds per loop turn); it leaves QuickFIX a gap
  that the journal must fill at the next logon.

Finally the router runs until every order has arrived, and logs out cleanly. Then:

* QuickFIX never saw a MsgSeqNum too low (its event log and every Logout text);
* every sequence number the router used reached QuickFIX, as itself, a PossDup resend or
  inside a GapFill, and both sides agree on both numbers after the final logout;
* every order was executed exactly once: a resent copy is only ever ignored as a PossDup
  duplicate (the simulator dedupes by ClOrdID and logs what it did with each).

Set FIXROUTER_CRASH_SEED to replay a run; the seed is printed on failure.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .harness import (
    RouterProcess,
    SimHandle,
    journal_seqs,
    order_events,
    wait_until,
    write_config,
    write_feed,
)

pytestmark = pytest.mark.integration

ORDERS = 3000
RATE = 300.0
"""Orders a second: slow enough that the stream outlives `KILLS` kill cycles."""
KILLS = 12
MAX_CYCLES = 30
KILL_AFTER = (0.15, 1.3)
"""Seconds after the router's start within which it is killed (start-up is ~0.3 s)."""
CRASH_AFTER = (1, 200)
"""Range of the order count after which the router kills itself."""


def test_kill_9_while_streaming_never_reuses_loses_or_duplicates(
    workdir: Path, sim: SimHandle, routers: Callable[..., RouterProcess]
) -> None:
    seed = int(os.environ.get("FIXROUTER_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    store = workdir / "store"
    config = workdir / "router.toml"
    ids = [f"CR{seed}-{i:05d}" for i in range(ORDERS)]
    feed = write_feed(workdir / "feed.txt", ids)

    kills_mid_stream = 0
    self_killed = 0
    cycles = 0
    while kills_mid_stream < KILLS:
        assert cycles < MAX_CYCLES, f"seed {seed}: the stream ended before {KILLS} kills"
        durability = "fsync" if cycles % 2 else "os"
        write_config(config, sim.port, store, durability=durability)
        if cycles % 4 < 2:
            router = routers(config, feed=feed, feed_rate=RATE)
            time.sleep(rng.uniform(*KILL_AFTER))
            router.kill9()
        else:
            crash_after = rng.randint(*CRASH_AFTER)
            router = routers(config, feed=feed, feed_rate=RATE, crash_after=crash_after)
            router.proc.wait(20)  # it SIGKILLs itself after `crash_after` orders
            self_killed += 1
        log = router.log()
        assert "Traceback" not in log, f"seed {seed}:\n{log}"
        if "LOGGED_ON" in log and "test feed: done" not in log:
            kills_mid_stream += 1
        cycles += 1
    streamed = sum(1 for a in order_events(sim).values() if "executed" in a)
    assert streamed < ORDERS, f"seed {seed}: every order arrived before the last kill"

    # The last start runs to completion and logs out cleanly.
    write_config(config, sim.port, store)
    router = routers(config, feed=feed)
    wait_until(
        lambda: all("executed" in a for a in order_events(sim, ids).values()),
        60,
        f"every order to be executed (seed {seed})",
    )
    assert router.terminate() == 0, router.log()

    # 1. QuickFIX never saw a sequence number too low.
    assert "too low" not in sim.quickfix_events().lower(), f"seed {seed}"
    texts = [m.get_str(58) or "" for m in sim.messages() if m.msg_type == b"5"]
    assert not [t for t in texts if "too low" in t.lower()], f"seed {seed}: {texts}"

    # 2. Every number we used reached QuickFIX (itself, resent, or inside a GapFill), and
    #    both sides agree on both numbers after the final Logout.
    next_sender, next_target = journal_seqs(store)
    assert sim.seqnums() == (next_target, next_sender), f"seed {seed}"
    covered: set[int] = set()
    for m in sim.messages("FIXROUTER"):
        seq = m.get_int(34)
        assert seq is not None
        if m.msg_type == b"4" and m.get(123) == b"Y":
            new_seq = m.get_int(36)
            assert new_seq is not None
            covered.update(range(seq, new_seq))
        else:
            covered.add(seq)
    assert set(range(1, next_sender)) - covered == set(), f"seed {seed}: numbers never sent"

    # 3. Every order executed exactly once; resent copies ignored as PossDup duplicates.
    actions = order_events(sim, ids)
    twice = {cl: a for cl, a in actions.items() if a.count("executed") != 1}
    assert not twice, f"seed {seed}: not executed exactly once: {list(twice.items())[:5]}"
    others = {x for a in actions.values() for x in a} - {"executed", "duplicate_ignored"}
    assert not others, f"seed {seed}: unexpected dispositions {others}"
    resent_first = sum(
        1 for e in sim.events()
        if e.get("msg_type") == "D" and e.get("possdup") and e.get("action") == "executed"
    )  # fmt: skip
    asked_by_ib = sum(1 for m in sim.messages("IB") if m.msg_type == b"2")
    asked_by_us = sum(1 for m in sim.messages("FIXROUTER") if m.msg_type == b"2")
    print(
        f"crash test seed {seed}: {cycles} kills ({kills_mid_stream} mid-stream, "
        f"{self_killed} self-inflicted), "
        f"{streamed}/{ORDERS} orders in before the last kill; ResendRequests: "
        f"{asked_by_ib} by QuickFIX, {asked_by_us} by the router; "
        f"{resent_first} orders first reached QuickFIX as PossDup resends, "
        f"{sum(a.count('duplicate_ignored') for a in actions.values())} PossDup copies ignored"
    )
