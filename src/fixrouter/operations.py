"""What runs around the order path for the operator: metrics, logs and the admin socket.

Theory of operation
-------------------
`fixrouter run` builds one `Operations` from the loaded config and wires it into the
engine in four steps:

1. `load(path)` reads the router config with every table this program owns: the order
   path's (`fixrouter.routing.service.SECTIONS`) plus `[metrics]`, `[logging]` and
   `[admin]`. `fixrouter check-config` and `fixrouter reload` use the same function, so
   a file they accept is a file the engine starts with.
2. `Operations(config, path)` starts nothing yet. `start_logging()` installs the event
   log (`fixrouter.logs.EventLog`): from then on no log record is written on the loop
   thread. The `Redactor` it uses knows the gateway's client tokens.
3. `RouterService(config, store_factory=ops.store_factory)` opens every journal as a
   `MeteredJournalStore`; `attach(service)` registers the session-event counter with the
   engine, binds each session's `OrderFlow` to its transport's read stamp, and sets each
   transport's wire tap to the FIX log.
4. `await start()` (on the loop) serves `/metrics` and the admin socket; `await close()`
   stops both and flushes the FIX log; `stop_logging()` flushes the event log last.

`reload()` is what SIGHUP and `fixrouter reload` do (the admin target's reload); on
SIGHUP its outcome is logged, since nobody is there to read an answer.

Failures to start (`MetricsError`, `AdminError`, `OSError` for a log file) are fatal,
like the gateway's: an engine nobody can watch or stop should not trade. Tests and
parallel engines use `[metrics] listen = "127.0.0.1:0"` (any free port) for that reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from fixrouter.admin.protocol import AdminRefused
from fixrouter.admin.server import AdminServer
from fixrouter.admin.settings import AdminSettings, socket_path
from fixrouter.admin.target import ServiceTarget
from fixrouter.config import RouterConfig, SectionParser, SessionSettings, load_config
from fixrouter.errors import ConfigError
from fixrouter.gateway import GatewayConfig
from fixrouter.logs import EventLog, FixLog, LoggingSettings, Redactor
from fixrouter.metrics import (
    JournalMeter,
    MeteredJournalStore,
    MetricsSettings,
    SessionEventCounter,
)
from fixrouter.metrics.collector import EngineCollector
from fixrouter.metrics.probe import EngineProbe
from fixrouter.metrics.server import LoopSampler, MetricsServer, build_registry
from fixrouter.risk import RiskConfig, RiskGate
from fixrouter.routing import service as routing_service
from fixrouter.routing.risk import RiskGateAdapter
from fixrouter.routing.service import RouterService
from fixrouter.store import JournalStore

log = logging.getLogger("fixrouter.operations")

SECTIONS: Mapping[str, SectionParser] = {
    **routing_service.SECTIONS,
    "metrics": MetricsSettings.from_toml_table,
    "logging": LoggingSettings.from_toml_table,
    "admin": AdminSettings.from_toml_table,
}
"""Every top-level table `fixrouter run` understands besides the sessions."""


def load(path: str | os.PathLike[str]) -> RouterConfig:
    """Read and check a whole router config. Raises ConfigError naming the file and key."""
    config = load_config(path, sections=SECTIONS)
    try:
        routing_service.routes(config)
        admin_socket(config)
        _check_throttle_sessions(config)
    except ConfigError as exc:  # checks across tables: the loader has not named the file
        raise ConfigError(f"{path}: {exc}") from None
    return config


def _check_throttle_sessions(config: RouterConfig) -> None:
    """A per-session throttle for a session that does not exist would silently protect
    nothing (a typo leaves the real session on the default rate). Raises ConfigError."""
    risk = config.sections.get("risk")
    if not isinstance(risk, RiskConfig):
        return
    known = {settings.name for settings in config.sessions}
    for name in risk.session_throttles:
        if name not in known:
            raise ConfigError(
                f"[risk.throttle.sessions.{name}]: no session is named {name!r} "
                f"(sessions: {', '.join(sorted(known))})"
            )


def metrics_settings(config: RouterConfig) -> MetricsSettings:
    settings = config.sections.get("metrics") or MetricsSettings()
    assert isinstance(settings, MetricsSettings)
    return settings


def logging_settings(config: RouterConfig) -> LoggingSettings:
    settings = config.sections.get("logging") or LoggingSettings()
    assert isinstance(settings, LoggingSettings)
    return settings


def admin_settings(config: RouterConfig) -> AdminSettings:
    settings = config.sections.get("admin") or AdminSettings()
    assert isinstance(settings, AdminSettings)
    return settings


def admin_socket(config: RouterConfig) -> Path | None:
    """Where the admin socket goes (None: disabled). Raises ConfigError if too long."""
    settings = admin_settings(config)
    if not settings.enabled:
        return None
    return socket_path(settings, [s.store.directory for s in config.sessions])


def secrets(config: RouterConfig) -> list[str]:
    """What must never be logged: every gateway client's token."""
    gateway = config.sections.get("gateway")
    if not isinstance(gateway, GatewayConfig):
        return []
    return [c.token for c in gateway.clients.values() if c.token]


class Operations:
    """Metrics, logs and the admin socket of one engine. See the module docstring."""

    def __init__(self, config: RouterConfig, config_path: Path) -> None:
        self.config = config
        self.config_path = config_path
        self.redactor = Redactor(secrets(config))
        names = [s.name for s in config.sessions]
        self.journals = {name: JournalMeter() for name in names}
        self.events = SessionEventCounter(names)
        logging_config = logging_settings(config)
        self._event_log: EventLog | None = None
        self.fix_log = (FixLog(logging_config.fix_log, self.redactor)
                        if logging_config.fix_log is not None else None)
        self.metrics: MetricsServer | None = None
        self.admin: AdminServer | None = None
        self.target: ServiceTarget | None = None
        self._service: RouterService | None = None
        self._risk: RiskGate | None = None

    # -- logs ------------------------------------------------------------------------------

    def start_logging(self, level: str | None = None) -> None:
        """Install the event log and open the FIX log. Raises OSError if a file cannot
        be opened. `level` overrides `[logging] level` (--log-level)."""
        self._event_log = EventLog(logging_settings(self.config), self.redactor, level=level)
        self._event_log.start()
        if self.fix_log is not None:
            try:
                self.fix_log.start()
            except OSError:
                self.stop_logging()
                raise

    def stop_logging(self) -> None:
        if self._event_log is not None:
            self._event_log.stop()
            self._event_log = None

    # -- wiring ----------------------------------------------------------------------------

    def store_factory(self, settings: SessionSettings, now: float) -> JournalStore:
        """`Engine`'s journal opener: the journal with its appends timed."""
        return MeteredJournalStore(
            settings.store.stem(settings.session), now=now,
            durability=settings.store.durability, meter=self.journals[settings.name],
        )  # fmt: skip

    def attach(self, service: RouterService) -> None:
        """Hook the counters and the FIX log into a built (not yet started) service."""
        self._service = service
        engine = service.engine
        engine.add_event_hook(self.events)
        flow = service.router.flow
        for name, es in engine.sessions.items():
            flow.session(name).line = es.transport.stats
            if self.fix_log is not None:
                es.transport.wire_tap = self.fix_log.tap(name)
        gate = service.router.gate
        risk = gate.risk if isinstance(gate, RiskGateAdapter) else None
        self.target = ServiceTarget(
            engine=engine, router=service.router, risk=risk, gateway=service.gateway,
            config=self.config, config_path=self.config_path, load=load,
        )  # fmt: skip
        self._risk = risk

    async def start(self) -> None:
        """Serve /metrics and the admin socket. Raises MetricsError or AdminError."""
        service = self._service
        assert service is not None and self.target is not None, "attach() first"
        metrics = metrics_settings(self.config)
        if metrics.enabled:
            probe = self._probe(service, metrics)
            sampler = LoopSampler(probe.sample, asyncio.get_running_loop())
            self.metrics = MetricsServer(metrics, build_registry(EngineCollector(sampler)))
            self.metrics.start()
        path = admin_socket(self.config)
        if path is not None:
            self.admin = AdminServer(path, self.target)
            try:
                await self.admin.start()
            except BaseException:
                self.admin = None
                await self.close()
                raise

    def _probe(self, service: RouterService, settings: MetricsSettings) -> EngineProbe:
        risk = self._risk
        symbols = set(settings.position_symbols)
        if risk is not None:
            symbols |= _risk_symbols(risk.config)
        router = service.router
        return EngineProbe(
            service.engine.sessions,
            flow=router.flow,
            events=self.events,
            journals=self.journals,
            denied=lambda: router.stats.denied,
            book=router.book,
            kill_switch=risk.kill_switch if risk is not None else None,
            throttle_depth=risk.queue_depth if risk is not None else None,
            gateway=service.gateway,
            position_symbols=frozenset(symbols),
            gc=service.engine.gc_policy.stats,
            routing=router.routing_stats,
            anomalies=router.book.counters,
            router_stats=router.stats,
            gateway_counters=service.gateway.stats,
        )

    def reload(self) -> None:
        """SIGHUP: reload the risk limits and log the outcome (never raises)."""
        if self.target is None:
            log.error("SIGHUP: not started yet; nothing reloaded")
            return
        try:
            result = self.target.reload()
        except AdminRefused as exc:
            log.error("SIGHUP: reload refused: %s", exc)
            return
        log.warning("SIGHUP: risk limits reloaded from %s", result["config"])

    async def close(self) -> None:
        """Stop /metrics and the admin socket, write what the FIX log still holds."""
        if self.admin is not None:
            await self.admin.close()
            self.admin = None
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        if self.fix_log is not None:
            self.fix_log.close()


def _risk_symbols(config: RiskConfig) -> set[str]:
    """The symbols the risk limits name: an operator-bounded set worth a position series."""
    return set(config.symbols)
