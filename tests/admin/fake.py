"""A test-local `AdminTarget`, served on a real Unix socket from a background loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fixrouter.admin.protocol import AdminRefused, KillSwitchCommand, RefPrice, Result, SeqSet
from fixrouter.admin.server import AdminServer


class FakeTarget:
    """Records every call; `refuse` makes the next calls refuse with that reason."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.refuse: str | None = None
        self.threads: set[int] = set()

    def _call(self, name: str, arg: Any = None) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append((name, arg))
        if self.refuse is not None:
            raise AdminRefused(self.refuse)

    def status(self) -> Result:
        self._call("status")
        return {"sessions": [{"name": "s1", "state": "ACTIVE", "logged_on": True,
                              "next_out": 12, "next_in": 7, "operator_action_required": False,
                              "in_trading_hours": True, "endpoint": "127.0.0.1:4000"}],
                "strategies": ["alpha"], "open_orders": {"count": 0, "orders": []},
                "kill_switches": [], "risk_ready": True}

    def kill_switch(self, command: KillSwitchCommand) -> Result:
        self._call("kill_switch", command)
        return {"scope": command.scope.value, "name": command.name, "engaged": command.engage,
                "released": not command.engage, "reason": command.reason, "dropped": 0,
                "cancels": 0}

    def reload(self) -> Result:
        self._call("reload")
        return {"config": "/x.toml", "restart_needed": ["gateway"]}

    def seq_show(self) -> Result:
        self._call("seq_show")
        return {"sessions": [{"name": "s1", "state": "DISCONNECTED", "next_out": 12,
                              "next_in": 7, "operator_action_required": True}]}

    def seq_set(self, command: SeqSet) -> Result:
        self._call("seq_set", command)
        return {"session": command.session or "s1", "next_out": command.next_out or 12,
                "next_in": command.next_in or 7, "resumed": True}

    def ref_price(self, command: RefPrice) -> Result:
        self._call("ref_price", command)
        return {"symbol": command.symbol, "price": str(command.price), "previous": None}


@contextmanager
def served(path: Path, target: FakeTarget) -> Iterator[AdminServer]:
    """Serve `target` at `path` from a loop in a background thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = AdminServer(path, target)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
