from __future__ import annotations

from pathlib import Path

import orjson

from fixrouter.sim.datadir import DataDir, EventLog, KnownClOrdIds


def test_boot_counter_increments(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    assert [d.next_boot(), d.next_boot(), DataDir(tmp_path / "d").next_boot()] == [1, 2, 3]


def test_known_clordids_persist_and_survive_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    ids = KnownClOrdIds(path)
    ids.add("A")
    ids.add("B\nC")  # cannot split a record
    ids.add("A")
    ids.close()
    with path.open("ab") as f:
        f.write(b'"TORN')  # a crash in the middle of a write
    again = KnownClOrdIds(path)
    assert "A" in again and "B\nC" in again and "TORN" not in again and len(again) == 2
    again.close()


def test_reset_forgets_store_and_clordids(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    (d.store / "x.seqnums").write_text("1 : 1")
    ids = d.known_clordids("FIX.4.2:IB->FIXROUTER")
    ids.add("A")
    ids.close()
    d.reset()
    assert not any(d.store.iterdir())
    assert "A" not in d.known_clordids("FIX.4.2:IB->FIXROUTER")


def test_event_log_lines_are_json_with_ts_first(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl")
    log.write({"dir": "in", "seq": 2})
    log.write({"dir": "out", "seq": 3})
    log.close()
    lines = [orjson.loads(x) for x in (tmp_path / "e.jsonl").read_bytes().splitlines()]
    assert [next(iter(x)) for x in lines] == ["ts", "ts"]
    assert [x["seq"] for x in lines] == [2, 3]
