"""Random sequences of store operations against a plain-Python model.

The journal is additionally closed and reopened at random points, so recovery must
reproduce the model's state exactly, including after rewinds and resets. Its sparse
index keeps an entry every 3 messages here (64 in production), so resends start between
entries and read across superseded records. Searches by content must find in the journal
file exactly what the memory store finds in its list.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fixrouter.store import JournalStore, MemoryStore, SequenceError

payloads = st.binary(min_size=0, max_size=300)
_stems = itertools.count()


@dataclass
class Model:
    sender: int = 1
    target: int = 1
    created: float = 0.0
    out: dict[int, bytes] = field(default_factory=dict)
    inbound: list[tuple[int, bytes]] = field(default_factory=list)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.stem = Path(self.dir.name) / f"S{next(_stems)}"
        self.model = Model()
        self.journal = JournalStore(self.stem, now=0.0, read_chunk=256, index_every=3)
        self.memory = MemoryStore(now=0.0)
        self.clock = 0.0

    def teardown(self) -> None:
        self.journal.close()
        self.dir.cleanup()

    def stores(self) -> tuple[JournalStore, MemoryStore]:
        return self.journal, self.memory

    @rule(data=payloads)
    def save_outbound(self, data: bytes) -> None:
        for s in self.stores():
            s.save_outbound(self.model.sender, data)
        self.model.out[self.model.sender] = data
        self.model.sender += 1

    @rule(data=payloads, delta=st.sampled_from([-1, 1, 2]))
    def save_outbound_wrong_seq(self, data: bytes, delta: int) -> None:
        for s in self.stores():
            try:
                s.save_outbound(self.model.sender + delta, data)
            except SequenceError:
                pass
            else:
                raise AssertionError("wrong seq accepted")

    @rule(data=payloads)
    def save_inbound(self, data: bytes) -> None:
        for s in self.stores():
            s.save_inbound(self.model.target, data)
        self.model.inbound.append((self.model.target, data))
        self.model.target += 1

    @rule()
    def incr_target(self) -> None:
        for s in self.stores():
            s.incr_next_target_seq()
        self.model.target += 1

    @rule(seq=st.integers(min_value=1, max_value=60))
    def set_sender(self, seq: int) -> None:
        for s in self.stores():
            s.set_next_sender_seq(seq)
        self.model.out = {k: v for k, v in self.model.out.items() if k < seq}
        self.model.sender = seq

    @rule(seq=st.integers(min_value=1, max_value=60))
    def set_target(self, seq: int) -> None:
        for s in self.stores():
            s.set_next_target_seq(seq)
        self.model.target = seq

    @precondition(lambda self: self.clock < 50)
    @rule()
    def reset(self) -> None:
        self.clock += 1.0
        for s in self.stores():
            s.reset(self.clock)
        self.model = Model(created=self.clock)

    @rule()
    def reopen(self) -> None:
        self.journal.close()
        self.journal = JournalStore(self.stem, now=-1.0, read_chunk=256, index_every=3)

    @rule(begin=st.integers(min_value=1, max_value=70), end=st.integers(min_value=0, max_value=70))
    def resend(self, begin: int, end: int) -> None:
        hi = end if end > 0 else 10**9
        want = [(k, v) for k, v in sorted(self.model.out.items()) if begin <= k <= hi]
        for s in self.stores():
            assert list(s.iter_outbound(begin, end)) == want

    @rule(data=st.data())
    def search(self, data: st.DataObject) -> None:
        saved = [d for _, d in self.model.inbound] + list(self.model.out.values())
        saved = [d for d in saved if d]
        if not saved:
            return
        payload = data.draw(st.sampled_from(saved))
        at = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
        needle = payload[at:at + data.draw(st.integers(min_value=1, max_value=6))]
        found = []
        for s in self.stores():
            last = s.find_last(needle, s.history_end())
            every = [(m.outbound, m.seq, m.data)
                     for m in s.scan([needle], 0, s.history_end())]
            assert last is not None and needle in last.data
            assert all(needle in d for _, _, d in every)
            found.append(((last.outbound, last.seq, last.data), every))
        assert found[0] == found[1]

    @invariant()
    def same_state(self) -> None:
        m = self.model
        for s in self.stores():
            assert s.next_sender_seq == m.sender
            assert s.next_target_seq == m.target
            assert s.creation_time == m.created
            assert list(s.iter_inbound()) == m.inbound
            assert list(s.iter_outbound(1)) == sorted(m.out.items())
            both = list(s.iter_messages())
            assert [(x.seq, x.data) for x in both if not x.outbound] == m.inbound
            assert [(x.seq, x.data) for x in both if x.outbound] == sorted(m.out.items())
        j, k = (list(s.iter_messages()) for s in self.stores())
        assert [(x.outbound, x.seq, x.data) for x in j] == [
            (x.outbound, x.seq, x.data) for x in k]


StoreMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreMachine = StoreMachine.TestCase
