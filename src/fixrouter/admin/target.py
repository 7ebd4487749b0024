"""`ServiceTarget`: the `AdminTarget` of a running engine (`fixrouter run`).

Each method runs on the event-loop thread (the admin server calls it from a loop
callback) and acts through the components' own entry points, so an admin command obeys
the same rules as everything else:

* `kill_switch` engages through `RiskGate.engage` and lets the router act on the
  engagement exactly as on an automatic one (`Router.act_on_engagements`: held requests
  in scope are denied KILL_SWITCH, and with `cancel_all` every working order in scope
  gets a cancel). Releasing goes through `RiskGate.release`.
* `reload` reads the whole config file again with the loader `fixrouter run` used, and
  only if every table is valid hands the new `[risk]` to `RiskGate.reload`, which swaps
  limits, throttles and triggers at once. Other tables that differ are listed: they take
  effect at the next restart.
* `seq_set` refuses unless the session's transport has no connection and the core is
  DISCONNECTED (`Session.set_next_seqs` checks the latter again). If the session was
  stopped for operator action (case 15), it is resumed: the transport connects and logs
  on with the new numbers.
* `ref_price` is `RiskGate.set_reference`.

Kill-switch times are kept on the monotonic clock by the gate; they are shown in UTC.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from fixrouter.config import RouterConfig
from fixrouter.engine import Engine
from fixrouter.errors import ConfigError, FixRouterError
from fixrouter.oms import OrderBook
from fixrouter.risk import RiskConfig, RiskError, RiskGate
from fixrouter.risk.killswitch import Engagement
from fixrouter.session import SessionState

from .protocol import AdminRefused, KillSwitchCommand, RefPrice, Result, SeqSet

log = logging.getLogger("fixrouter.admin")

MAX_LISTED_ORDERS = 1000


class RouterView(Protocol):
    @property
    def book(self) -> OrderBook: ...

    def act_on_engagements(self) -> None: ...


class GatewayView(Protocol):
    def connected(self) -> list[str]: ...


class ServiceTarget:
    """See the module docstring. `load` reads and validates the config file (raises
    ConfigError); `risk` is None when the engine runs without a risk gate."""

    def __init__(
        self,
        *,
        engine: Engine,
        router: RouterView,
        risk: RiskGate | None,
        gateway: GatewayView | None,
        config: RouterConfig,
        config_path: Path,
        load: Callable[[Path], RouterConfig],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._router = router
        self._risk = risk
        self._gateway = gateway
        self._config = config
        self._config_path = config_path
        self._load = load
        self._clock = clock
        self._monotonic = monotonic

    # -- status ----------------------------------------------------------------------------

    def status(self) -> Result:
        now = self._clock()
        sessions = []
        for name, es in self._engine.sessions.items():
            session = es.session
            endpoint = es.transport.endpoint
            sessions.append({
                "name": name,
                "state": session.state.value,
                "logged_on": es.transport.logged_on,
                "next_out": session.next_sender_seq,
                "next_in": session.next_target_seq,
                "operator_action_required": session.operator_action_required,
                "in_trading_hours": session.is_session_time(now),
                "endpoint": str(endpoint) if endpoint is not None else None,
            })  # fmt: skip
        book = self._router.book
        open_orders = list(book.open_orders())
        listed = [{
            "strategy": o.strategy, "id": o.id, "cl_ord_id": o.cl_ord_id, "session": o.session,
            "symbol": o.symbol, "side": o.side.value, "qty": str(o.qty),
            "price": str(o.price) if o.price is not None else None,
            "status": o.status.value, "cum_qty": str(o.cum_qty),
        } for o in open_orders[:MAX_LISTED_ORDERS]]  # fmt: skip
        risk = self._risk
        return {
            "sessions": sessions,
            "strategies": sorted(self._gateway.connected()) if self._gateway else [],
            "open_orders": {"count": len(open_orders), "orders": listed},
            "kill_switches": ([self._engagement(e) for e in risk.kill_switch.engaged()]
                              if risk is not None else []),
            "risk_ready": risk.ready if risk is not None else True,
        }

    def _engagement(self, e: Engagement) -> dict[str, Any]:
        wall = self._clock() - (self._monotonic() - e.since)
        since = datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")
        return {"scope": e.scope.value, "name": e.name, "reason": e.reason,
                "since": since.replace("+00:00", "Z"), "automatic": e.automatic}

    # -- kill switch -----------------------------------------------------------------------

    def kill_switch(self, command: KillSwitchCommand) -> Result:
        risk = self._need_risk()
        answer: dict[str, Any] = {"scope": command.scope.value, "name": command.name,
                                  "engaged": False, "released": False}
        if not command.engage:
            try:
                answer["released"] = risk.release(command.scope, command.name) is not None
            except RiskError as exc:  # e.g. the release could not be persisted: still on
                raise AdminRefused(str(exc)) from None
            return answer
        try:
            engaged = risk.engage(command.scope, command.name, reason=command.reason,
                                  cancel_all=command.cancel_all, now=self._monotonic())
        except RiskError as exc:
            raise AdminRefused(str(exc)) from None
        # The router acts on it as on an automatic engagement (the gate's queue).
        risk.engagements.append(engaged)
        self._router.act_on_engagements()
        answer.update(
            engaged=True,
            reason=engaged.engagement.reason,
            dropped=len(engaged.dropped),
            cancels=len(engaged.working) if command.cancel_all else 0,
        )
        return answer

    # -- reload ----------------------------------------------------------------------------

    def reload(self) -> Result:
        risk = self._need_risk()
        try:
            new = self._load(self._config_path)
        except ConfigError as exc:
            raise AdminRefused(f"nothing changed: {exc}") from None
        risk_config = new.sections.get("risk") or RiskConfig()
        assert isinstance(risk_config, RiskConfig)
        try:
            risk.reload(risk_config)
        except ConfigError as exc:
            raise AdminRefused(f"nothing changed: {exc}") from None
        restart = sorted(_changed(self._config, new) - {"risk"})
        if restart:
            log.warning("reload: %s changed too; they take effect after a restart",
                        ", ".join(f"[{t}]" for t in restart))
        return {"config": str(self._config_path), "restart_needed": restart}

    # -- sequence numbers ------------------------------------------------------------------

    def seq_show(self) -> Result:
        return {"sessions": [{
            "name": name,
            "state": es.session.state.value,
            "next_out": es.session.next_sender_seq,
            "next_in": es.session.next_target_seq,
            "operator_action_required": es.session.operator_action_required,
        } for name, es in self._engine.sessions.items()]}  # fmt: skip

    def seq_set(self, command: SeqSet) -> Result:
        sessions = self._engine.sessions
        name = command.session
        if name is None:
            if len(sessions) != 1:
                raise AdminRefused(f"several sessions are configured; name one of "
                                   f"{', '.join(sessions)}")
            name = next(iter(sessions))
        es = sessions.get(name)
        if es is None:
            raise AdminRefused(f"no session {name!r} (sessions: {', '.join(sessions)})")
        session = es.session
        if es.transport.connected or session.state is not SessionState.DISCONNECTED:
            raise AdminRefused(f"{name} is {session.state.value}: sequence numbers can only "
                               "be set while the session is logged out")
        waiting = session.operator_action_required
        before = (session.next_sender_seq, session.next_target_seq)
        try:
            session.set_next_seqs(command.next_out, command.next_in)
        except FixRouterError as exc:
            raise AdminRefused(str(exc)) from None
        log.warning("%s: sequence numbers set by an operator: next out %d -> %d, next in "
                    "%d -> %d", name, before[0], session.next_sender_seq, before[1],
                    session.next_target_seq)
        if waiting:
            es.transport.resume()
            log.warning("%s: resumed after operator action; logging on again", name)
        return {"session": name, "next_out": session.next_sender_seq,
                "next_in": session.next_target_seq, "resumed": waiting}

    # -- reference prices ------------------------------------------------------------------

    def ref_price(self, command: RefPrice) -> Result:
        risk = self._need_risk()
        previous = risk.references.prices.get(command.symbol)
        try:
            risk.set_reference(command.symbol, command.price)
        except ValueError as exc:
            raise AdminRefused(str(exc)) from None
        return {"symbol": command.symbol, "price": str(command.price),
                "previous": str(previous) if previous is not None else None}

    def _need_risk(self) -> RiskGate:
        if self._risk is None:
            raise AdminRefused("this engine runs without a risk gate")
        return self._risk


def _changed(old: RouterConfig, new: RouterConfig) -> set[str]:
    """Top-level tables whose parsed settings differ (sessions included)."""
    changed = {key for key in set(old.sections) | set(new.sections)
               if _section(old.sections, key) != _section(new.sections, key)}
    if old.sessions != new.sessions:
        changed.add("sessions")
    return changed


def _section(sections: Mapping[str, object], key: str) -> object:
    return sections.get(key)
