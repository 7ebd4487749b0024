"""Kill switches on disk (`fixrouter.risk.persist`): what was engaged before a restart is
engaged after it, releases stick, a torn tail is dropped, damage fails closed."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.risk import DenialCode, KillScope, RiskConfig, RiskError, RiskGate
from fixrouter.risk.killswitch import Engagement
from fixrouter.risk.persist import COMPACT_LINES, KillSwitchLog, KillSwitchLogError

from .conftest import SESSION, FakeBook, loose, open_gate, order

T = 1000.0


def code(verdict: object) -> DenialCode | None:
    return getattr(verdict, "code", None)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def restart(path: Path, table: dict[str, Any] | None = None, *, wall: float = 2e9,
            mono: float = T) -> tuple[RiskGate, KillSwitchLog, list[Engagement]]:
    """A new gate, as a restarted engine builds it: switches restored, then opened."""
    log = KillSwitchLog(path, clock=Clock(wall))
    gate = RiskGate(RiskConfig.from_toml_table(loose() if table is None else table))
    restored = log.attach(gate, monotonic=lambda: mono)
    gate.rebuild(FakeBook())
    gate.rebuild_complete()
    gate.set_reference("AAPL", Decimal(100))
    return gate, log, restored


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_engagements_survive_a_restart_and_releases_stick(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, restored = restart(path)
    assert restored == []
    gate.engage(KillScope.STRATEGY, "s1", reason="runaway loop", now=T)
    gate.engage(KillScope.ACCOUNT, "U9", reason="margin call", now=T)
    gate.engage(KillScope.ENGINE, reason="exchange halt", now=T)
    gate.release(KillScope.ENGINE)
    log.close()  # as kill -9 leaves it: nothing is written at exit

    gate, log, restored = restart(path)
    assert {(e.scope, e.name, e.reason) for e in restored} == {
        (KillScope.STRATEGY, "s1", "runaway loop"), (KillScope.ACCOUNT, "U9", "margin call")}
    assert gate.kill_switch.engine is None
    denial = gate.check_new(order(strategy="s1", account="U1"), SESSION, T)
    assert (code(denial), getattr(denial, "value", None)) == (DenialCode.KILL_SWITCH,
                                                               "strategy s1")
    assert code(gate.check_new(order(strategy="s2", account="U9"), SESSION, T)) \
        == DenialCode.KILL_SWITCH
    assert gate.check_new(order(strategy="s2", account="U1"), SESSION, T) is None

    gate.release(KillScope.STRATEGY, "s1")
    log.close()
    gate, log, restored = restart(path)
    assert [(e.scope, e.name) for e in restored] == [(KillScope.ACCOUNT, "U9")]
    assert gate.check_new(order(strategy="s1", account="U1"), SESSION, T) is None
    log.close()


def test_an_automatic_engagement_is_on_disk_before_anyone_hears_of_it(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    table = loose(max_order_qty=200)
    table["kill_switch"] = {"max_denials": 2, "max_rejects": 0, "window_seconds": 10}
    gate, log, _ = restart(path, table)
    seen: list[tuple[int, list[dict[str, Any]]]] = []
    write = log.engaged

    def engaged(engagement: Engagement) -> None:
        write(engagement)
        # The router learns of an engagement from `gate.engagements`: still empty here.
        seen.append((len(gate.engagements), records(path)))

    log.engaged = engaged  # type: ignore[method-assign]
    for i in range(3):
        gate.check_new(order(strategy="s1", qty=201), SESSION, T + i)
    [(queued, on_disk)] = seen
    assert queued == 0
    [rec] = on_disk
    assert (rec["op"], rec["scope"], rec["name"], rec["automatic"]) == (
        "engage", "strategy", "s1", True)
    assert "3 risk denials within 10 s" in rec["reason"]
    assert len(gate.engagements) == 1
    log.close()

    gate, log, [restored] = restart(path, table)
    assert restored.automatic and "3 risk denials" in restored.reason
    assert code(gate.check_new(order(strategy="s1", qty=1), SESSION, T)) \
        == DenialCode.KILL_SWITCH
    log.close()


def test_engaged_times_keep_their_wall_clock_instant(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    log = KillSwitchLog(path, clock=Clock(1_700_000_000.0))
    gate = RiskGate(RiskConfig.from_toml_table(loose()))
    log.attach(gate, monotonic=lambda: 50.0)
    gate.engage(KillScope.STRATEGY, "s1", now=50.0)
    log.close()
    # 60 s later on the wall clock, on a new monotonic clock that reads 5.
    _, log, [restored] = restart(path, wall=1_700_000_060.0, mono=5.0)
    assert restored.since == pytest.approx(-55.0)
    log.close()


def test_engaging_twice_keeps_the_first_engagement_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, _ = restart(path)
    gate.engage(KillScope.STRATEGY, "s1", reason="first", now=T)
    gate.engage(KillScope.STRATEGY, "s1", reason="second", now=T + 1)
    assert [r["reason"] for r in records(path)] == ["first"]
    log.close()
    _, log, [restored] = restart(path)
    assert restored.reason == "first"
    log.close()


def test_a_torn_final_line_is_dropped_and_cut_off(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, _ = restart(path)
    gate.engage(KillScope.STRATEGY, "s1", reason="kept", now=T)
    log.close()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"op":"release","scope":"strat')  # died inside write(2)
    gate, log, restored = restart(path)
    assert log.torn and log.damaged_line is None
    assert "torn final line" in caplog.text
    assert [e.name for e in restored] == ["s1"]  # the release never returned: not done
    assert path.read_bytes() == whole
    gate.engage(KillScope.ACCOUNT, "U1", reason="after", now=T)  # starts on its own line
    log.close()
    _, log, restored = restart(path)
    assert {e.name for e in restored} == {"s1", "U1"} and not log.torn
    log.close()


@pytest.mark.parametrize("damage", [b"garbage", b'{"op":"engage","scope":"planet",'
                                    b'"name":"x","reason":"r","at":1}', b"[1,2,3]"])
def test_a_damaged_line_engages_the_engine_switch_until_released(
        tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, _ = restart(path)
    gate.engage(KillScope.ACCOUNT, "U9", reason="kept", now=T)
    gate.engage(KillScope.STRATEGY, "s1", reason="lost?", now=T)
    log.close()
    lines = path.read_bytes().splitlines(keepends=True)
    original = lines[0] + damage + b"\n" + lines[1]
    path.write_bytes(original)

    gate, log, restored = restart(path)
    assert log.damaged_line == 2
    engine = gate.kill_switch.engine
    assert engine is not None and engine.automatic
    assert "damaged at line 2" in engine.reason
    assert {(e.scope, e.name) for e in restored} == {
        (KillScope.ACCOUNT, "U9"), (KillScope.STRATEGY, "s1"), (KillScope.ENGINE, "")}
    assert code(gate.check_new(order(strategy="s2", account="U1"), SESSION, T)) \
        == DenialCode.KILL_SWITCH
    [kept] = tmp_path.glob("killswitch.log.damaged-*")
    assert kept.read_bytes() == original  # the evidence, untouched
    log.close()

    # The rewritten file holds what could be read plus the engine's switch...
    gate, log, restored = restart(path)
    assert log.damaged_line is None and gate.kill_switch.engine is not None
    # ...and an operator's release of it sticks.
    gate.release(KillScope.ENGINE)
    log.close()
    gate, log, restored = restart(path)
    assert gate.kill_switch.engine is None
    assert {e.name for e in restored} == {"U9", "s1"}
    log.close()


class FailingJournal:
    def engaged(self, engagement: Engagement) -> None:
        raise OSError(28, "No space left on device")

    def released(self, scope: KillScope, name: str) -> None:
        raise OSError(28, "No space left on device")


def test_an_engagement_that_cannot_be_written_still_engages(
        caplog: pytest.LogCaptureFixture) -> None:
    gate = open_gate()
    gate.kill_journal = FailingJournal()
    event = gate.engage(KillScope.STRATEGY, "s1", now=T)
    assert event.engagement.name == "s1"
    assert code(gate.check_new(order(strategy="s1"), SESSION, T)) == DenialCode.KILL_SWITCH
    assert any(r.levelno == logging.CRITICAL and "will NOT survive a restart" in r.message
               for r in caplog.records)


def test_a_release_that_cannot_be_written_is_refused_and_the_switch_stays() -> None:
    gate = open_gate()
    gate.engage(KillScope.STRATEGY, "s1", now=T)
    gate.kill_journal = FailingJournal()
    with pytest.raises(RiskError, match="stays engaged"):
        gate.release(KillScope.STRATEGY, "s1")
    assert "s1" in gate.kill_switch.strategies
    # Releasing a switch that is not engaged writes nothing, so it cannot fail.
    assert gate.release(KillScope.ACCOUNT, "U1") is None


def test_a_failed_append_leaves_whole_records(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, _ = restart(path)
    gate.engage(KillScope.STRATEGY, "s1", now=T)
    size = path.stat().st_size

    def short_write(fd: int, data: bytes) -> int:
        return real_write(fd, data[:7])

    import fixrouter.risk.persist as persist
    real_write = persist.os.write
    monkeypatch.setattr(persist.os, "write", short_write)
    with pytest.raises(RiskError):
        gate.release(KillScope.STRATEGY, "s1")
    monkeypatch.undo()
    assert path.stat().st_size == size
    log.close()
    _, log, restored = restart(path)
    assert [e.name for e in restored] == ["s1"] and not log.torn
    log.close()


def test_a_second_engine_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    log = KillSwitchLog(path)
    with pytest.raises(KillSwitchLogError, match="in use"):
        KillSwitchLog(path)
    log.close()


def test_a_long_history_is_compacted_to_the_switches_in_force(tmp_path: Path) -> None:
    path = tmp_path / "killswitch.log"
    gate, log, _ = restart(path)
    gate.engage(KillScope.ACCOUNT, "U9", reason="stays", now=T)
    for _ in range(COMPACT_LINES // 2 + 1):
        gate.engage(KillScope.STRATEGY, "s1", now=T)
        gate.release(KillScope.STRATEGY, "s1")
    log.close()
    assert len(path.read_bytes().splitlines()) > COMPACT_LINES
    gate, log, restored = restart(path)
    assert [(r["op"], r["name"]) for r in records(path)] == [("engage", "U9")]
    assert [e.name for e in restored] == ["U9"]
    gate.engage(KillScope.STRATEGY, "s2", now=T)  # appends to the new file, still locked
    with pytest.raises(KillSwitchLogError, match="in use"):
        KillSwitchLog(path)
    log.close()
    _, log, restored = restart(path)
    assert {e.name for e in restored} == {"U9", "s2"}
    log.close()
