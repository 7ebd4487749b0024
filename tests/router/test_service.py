"""RouterService: assembly from a config file, intent logs beside journals, group commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.oms import IntentLogError
from fixrouter.routing.service import RouterService, load
from fixrouter.sim.process import free_port


def _config(tmp_path: Path, extra: str = "", durability: str = "os") -> Path:
    path = tmp_path / "router.toml"
    path.write_text(f"""
[session]
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {free_port()}
FileStorePath = "{tmp_path / 'store'}"
Durability = "{durability}"

[gateway]
listen = ["tcp://127.0.0.1:0"]
{extra}
""")
    return path


def test_every_section_is_read_and_checked(tmp_path: Path) -> None:
    config = load(_config(tmp_path, '[risk.global]\nmax_order_qty = 5\n[dialect]\n'
                                    'default_exchange = "ISLAND"\n'))
    assert set(config.sections) == {"gateway", "risk", "dialect"}
    with pytest.raises(ConfigError, match=r"\[routing\] default_session: no session 'x'"):
        load(_config(tmp_path, '[routing]\ndefault_session = "x"\n'))
    with pytest.raises(ConfigError, match=r"unknown key 'max_order_qy' in \[risk\.global\]"):
        load(_config(tmp_path, "[risk.global]\nmax_order_qy = 5\n"))
    with pytest.raises(ConfigError, match="unknown key 'metrix'"):
        load(_config(tmp_path, "[metrix]\n"))


def test_the_service_recovers_before_it_listens_and_fails_closed(tmp_path: Path) -> None:
    service = RouterService(load(_config(tmp_path)))
    try:
        assert service.router.ready
        assert service.router.gate.ready
        journal = tmp_path / "store" / "FIX.4.2-FIXROUTER-IB.journal"
        assert journal.exists()
        assert (tmp_path / "store" / "FIX.4.2-FIXROUTER-IB.orders.log").exists()
        # A second process on the same files is refused, naming what is held.
        with pytest.raises(Exception, match="in use by another process"):
            RouterService(load(_config(tmp_path)))

        async def listen() -> None:
            await service.start()
            (address,) = service.addresses
            assert address.port != 0
            await service.gateway.close()

        asyncio.run(listen())
    finally:
        service.close()


def test_a_locked_intent_log_stops_start_up_with_nothing_left_open(tmp_path: Path) -> None:
    from fixrouter.oms import IntentLog

    config = load(_config(tmp_path))
    held = tmp_path / "store" / "FIX.4.2-FIXROUTER-IB.orders.log"
    with IntentLog(held), pytest.raises(IntentLogError):
        RouterService(config)
    RouterService(config).close()  # the journal was released on the way out


def test_in_fsync_mode_a_message_counts_as_durable_only_with_its_intent(tmp_path: Path) -> None:
    service = RouterService(load(_config(tmp_path, durability="fsync")))
    try:
        session = next(iter(service.engine.sessions.values()))
        commit = session.commit
        assert commit is not None
        store = session.store
        before = store.written_upto()
        order: list[str] = []

        def companion() -> None:
            # A record journaled while the companion syncs (as the loop thread may)
            # has an intent written after the companion started: not covered.
            order.append("intents")
            if len(order) == 1:
                store.save_outbound(store.next_sender_seq, b"8=FIX.4.2\x01...")

        commit.add(companion)
        ticket = commit.sync()
        assert order == ["intents"]  # the companion synced before the journal
        assert ticket == before < store.written_upto()
        assert commit.synced_upto() == before
        assert commit.sync() == store.written_upto()  # the next sync covers it
    finally:
        service.close()


def test_os_mode_needs_no_group_commit(tmp_path: Path) -> None:
    service = RouterService(load(_config(tmp_path)))
    try:
        assert next(iter(service.engine.sessions.values())).commit is None
    finally:
        service.close()
