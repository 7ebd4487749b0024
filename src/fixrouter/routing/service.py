"""One router process, assembled from its config: engine, order book, gate, router, gateway.

Theory of operation
-------------------
`load(path)` reads the TOML file with every section this program owns (`[engine]`,
`[gateway]`, `[dialect]`, `[risk]`, `[routing]`; `SECTIONS`) and checks the routing
against the configured sessions, so every config error is found before a file is opened.

`RouterService(config)` then builds, in this order, and undoes everything built so far
if a step fails:

1. the data dictionary, shared by the session layer and the dialect;
2. the router with its gate: always the risk gate (`[risk]`, or its conservative
   defaults when the table is absent), never a pass-through in production;
3. the engine: every session's journal (locked, recovered after a crash);
4. per session, the order book's intent log beside the journal (`<stem>.orders.log`),
   joined to the session's group commit when it syncs;
5. the kill-switch file (`killswitch.log` in the first session's FileStorePath): the
   switches it has in force are engaged in the gate, which records every later
   engagement and release in it (`fixrouter.risk.persist`);
6. `router.recover()`: the book from every journal and intent log, then the gate;
7. the gateway, not yet listening.

`await start()` binds the gateway's addresses (the gateway starts accepting only once
the book is recovered, and the router would refuse orders until then anyway);
`await run()` keeps the FIX sessions connected until `await stop()`, which stops the
gateway first (no new orders) and then logs every session out. `close()` releases the
journals and intent logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping

from fixrouter.config import RouterConfig, SectionParser, load_config
from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.engine import Engine, EngineSettings, StoreFactory
from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress
from fixrouter.oms import IntentLog, OrderBook, intent_log_path
from fixrouter.risk import RiskConfig, RiskGate
from fixrouter.risk.persist import KillSwitchLog, path_for
from fixrouter.router import EnginePort, Router
from fixrouter.routing.config import Routes, RoutingConfig
from fixrouter.routing.risk import RiskGateAdapter

log = logging.getLogger("fixrouter.router")

SECTIONS: Mapping[str, SectionParser] = {
    "engine": EngineSettings.from_toml_table,
    "gateway": GatewayConfig.from_toml_table,
    "dialect": DialectSettings.from_toml_table,
    "risk": RiskConfig.from_toml_table,
    "routing": RoutingConfig.from_toml_table,
}
"""The top-level tables `fixrouter run` understands besides the sessions."""


def load(path: str | os.PathLike[str]) -> RouterConfig:
    """Read and check a router config. Raises ConfigError naming the file and key."""
    config = load_config(path, sections=SECTIONS)
    routes(config)
    return config


def routes(config: RouterConfig) -> Routes:
    """The resolved `[routing]`. Raises ConfigError naming an unknown session."""
    routing = config.sections.get("routing") or RoutingConfig()
    assert isinstance(routing, RoutingConfig)
    return routing.resolve([s.name for s in config.sessions])


class LoopTimers:
    """The router's `Timers` on an asyncio loop."""

    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def call_soon(self, callback: Callable[[], None]) -> None:
        self._loop.call_soon(callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self._loop.call_later(delay, callback)


class RouterService:
    """See the module docstring.

    Raises (from the constructor) ConfigError (bad routing, dialect or dictionary),
    StoreError / IntentLogError (a journal or intent log is locked by another process,
    damaged or unwritable), CorruptJournalError, KillSwitchLogError; nothing stays open
    then.
    """

    def __init__(
        self,
        config: RouterConfig,
        *,
        clock: Callable[[], float] = time.time,
        store_factory: StoreFactory | None = None,
    ) -> None:
        """`store_factory` opens each session's journal (default: a plain JournalStore;
        `fixrouter run` passes the metrics layer's timed one)."""
        sections = config.sections
        gateway_config = sections.get("gateway") or GatewayConfig()
        dialect_settings = sections.get("dialect") or DialectSettings()
        risk_config = sections.get("risk") or RiskConfig()
        assert isinstance(gateway_config, GatewayConfig)
        assert isinstance(dialect_settings, DialectSettings)
        assert isinstance(risk_config, RiskConfig)
        validator = CompiledValidator(load_dictionary())
        risk = RiskGate(risk_config)
        self.router = Router(
            OrderBook(),
            RiskGateAdapter(risk),
            Dialect(dialect_settings, validator),
            routes(config),
            clock=clock,
        )
        self._intent_logs: list[IntentLog] = []
        self._kill_log: KillSwitchLog | None = None
        self.engine = Engine(
            config,
            on_deliver=self.router.on_deliver,
            on_event=self.router.on_event,
            validator=validator,
            clock=clock,
            store_factory=store_factory,
        )
        try:
            for session in self.engine.sessions.values():
                settings = session.settings
                intents = IntentLog(intent_log_path(settings.store.stem(settings.session)))
                self._intent_logs.append(intents)
                self.engine.add_sync_companion(session.name, intents.sync)
                self.router.add_session(EnginePort(session), intents)
            # Before recover() opens the gate: a kill switch engaged before a restart
            # (even kill -9) blocks from the first order after it.
            self._kill_log = KillSwitchLog(path_for(config))
            self._kill_log.attach(risk)
            self.router.recover()
        except BaseException:
            self.close()
            raise
        self.gateway = Gateway(gateway_config, self.router)
        self.router.outlet = self.gateway

    @property
    def addresses(self) -> list[ListenAddress]:
        """Where the gateway listens (after `start`)."""
        return self.gateway.addresses

    async def start(self) -> None:
        """Listen for strategies. Raises GatewayError (address in use, ...)."""
        self.router.timers = LoopTimers(asyncio.get_running_loop())
        await self.gateway.start()
        for address in self.gateway.addresses:
            log.info("strategies connect to %s", address)

    async def run(self) -> None:
        """Keep every FIX session connected until `stop()`; failures in `engine.failures`."""
        await self.engine.run()

    async def stop(self) -> None:
        """Stop taking orders, then log every session out."""
        await self.gateway.close()
        await self.engine.stop()

    def close(self) -> None:
        """Release the journals and intent logs. Idempotent."""
        self.engine.close()
        for intents in self._intent_logs:
            intents.close()
        if self._kill_log is not None:
            self._kill_log.close()
