from __future__ import annotations

from pathlib import Path

import orjson

from fixrouter.sim.datadir import DataDir, EventLog


def test_boot_counter_increments(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    assert [d.next_boot(), d.next_boot(), DataDir(tmp_path / "d").next_boot()] == [1, 2, 3]


def _in(session: str, msg_type: str, cl_ord_id: str, action: str) -> dict[str, object]:
    return {"dir": "in", "session": session, "msg_type": msg_type, "cl_ord_id": cl_ord_id,
            "action": action}


S = "FIX.4.2:IB->FIXROUTER"


def test_known_clordids_come_from_the_event_log_and_survive_a_torn_line(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    log = EventLog(d.events)
    log.write(_in(S, "D", "A", "executed"))
    log.write(_in(S, "D", "B\nC", "rejected"))  # a newline cannot split a record
    log.write(_in(S, "F", "CXL", "cancel_rejected"))
    log.write(_in(S, "D", "DUP", "duplicate_ignored"))  # the Book did not record it
    log.write(_in(S, "H", "STAT", "status"))  # status requests are not orders
    log.write(_in("FIX.4.2:IB->OTHER", "D", "ELSEWHERE", "executed"))
    log.close()
    with d.events.open("ab") as f:
        f.write(b'{"dir": "in", "session": "TORN')  # a crash in the middle of a write
    known = d.known_clordids(S)
    assert {"A", "B\nC", "CXL"} == {c for c in ("A", "B\nC", "CXL", "DUP", "STAT", "ELSEWHERE")
                                    if c in known}
    assert len(known) == 3


def test_add_is_memory_only_because_the_event_log_is_the_durable_record(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    known = d.known_clordids(S)
    known.add("A")
    assert "A" in known
    assert "A" not in d.known_clordids(S)  # nothing written until the app logs the event


def test_reset_forgets_store_and_clordids(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d")
    (d.store / "x.seqnums").write_text("1 : 1")
    log = EventLog(d.events)
    log.write(_in(S, "D", "A", "executed"))
    log.close()
    assert "A" in d.known_clordids(S)
    d.reset()
    assert not any(d.store.iterdir())
    assert "A" not in d.known_clordids(S)
    log = EventLog(d.events)
    log.write(_in(S, "D", "B", "executed"))  # known again after the reset
    log.close()
    assert "B" in d.known_clordids(S)


def test_event_log_lines_are_json_with_ts_first(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl")
    log.write({"dir": "in", "seq": 2})
    log.write({"dir": "out", "seq": 3})
    log.close()
    lines = [orjson.loads(x) for x in (tmp_path / "e.jsonl").read_bytes().splitlines()]
    assert [next(iter(x)) for x in lines] == ["ts", "ts"]
    assert [x["seq"] for x in lines] == [2, 3]
