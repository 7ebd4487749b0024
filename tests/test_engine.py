"""Tests for fixrouter.engine's `[engine]` table and its busy-polling run.

The sessions themselves are tested through the transport (tests/transport) and the
integration tests; here only what the engine adds: the table, and that `run()` polls
when asked to and hands fsync-mode commits to the poller's watch.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import uvloop

from fixrouter.engine import Engine, EngineSettings, engine_settings
from fixrouter.errors import ConfigError
from fixrouter.operations import load as load_for_run
from fixrouter.routing.service import load

SESSION = """\
[session]
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 1
ReconnectInterval = 30
FileStorePath = "{store}"
Durability = "{durability}"
"""


def _config(tmp_path: Path, tables: str = "", durability: str = "os") -> Path:
    path = tmp_path / "router.toml"
    path.write_text(SESSION.format(store=tmp_path / "store", durability=durability) + tables)
    return path


def test_busy_poll_is_off_unless_the_table_turns_it_on(tmp_path: Path) -> None:
    assert engine_settings(load(_config(tmp_path))) == EngineSettings(busy_poll=False)
    config = load(_config(tmp_path, "[engine]\nbusy_poll = true\n"))
    assert engine_settings(config).busy_poll is True
    # fixrouter run and check-config read the same table.
    assert engine_settings(load_for_run(_config(tmp_path, "[engine]\n"))).busy_poll is False


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[engine]\nbusy_pol = true\n", "unknown key 'busy_pol' (did you mean 'busy_poll'?)"),
        ("[engine]\nspin = true\n", "unknown key 'spin'"),
        ('[engine]\nbusy_poll = "yes"\n', "busy_poll: expected true or false, got 'yes'"),
    ],
)
def test_a_bad_engine_table_is_an_error_naming_the_key(
    tmp_path: Path, table: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(_config(tmp_path, table))
    assert message in str(info.value) and "[engine]" in str(info.value)


def test_run_polls_with_busy_poll_and_stops_polling_when_it_returns(tmp_path: Path) -> None:
    config = load(_config(tmp_path, "[engine]\nbusy_poll = true\n", durability="fsync"))

    async def test() -> None:
        engine = Engine(config)
        try:
            (session,) = engine.sessions.values()
            assert session.commit is not None
            assert session.transport._commits is engine.commits
            task = asyncio.create_task(engine.run())
            await asyncio.sleep(0.01)
            poller = engine.poller
            assert poller is not None and poller.on and poller.turns > 0
            await engine.stop()
            await task
            assert not poller.on
        finally:
            engine.close()

    uvloop.run(test())


def test_run_sleeps_between_events_without_busy_poll(tmp_path: Path) -> None:
    config = load(_config(tmp_path))

    async def test() -> None:
        engine = Engine(config)
        try:
            (session,) = engine.sessions.values()
            assert session.transport._commits is None  # os durability: never a commit
            task = asyncio.create_task(engine.run())
            await asyncio.sleep(0.01)
            assert engine.poller is None
            await engine.stop()
            await task
        finally:
            engine.close()

    uvloop.run(test())
