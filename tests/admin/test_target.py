"""ServiceTarget: the engine-side admin target, on paths the running-engine tests can't
provoke cheaply."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from fixrouter.admin.protocol import AdminRefused, KillSwitchCommand
from fixrouter.admin.target import ServiceTarget
from fixrouter.risk import KillScope, RiskConfig, RiskGate
from fixrouter.risk.killswitch import Engagement


class _FullDisk:
    """A kill-switch journal whose every write fails, as on a full disk."""

    def engaged(self, engagement: Engagement) -> None:
        raise OSError(28, "No space left on device")

    def released(self, scope: KillScope, name: str) -> None:
        raise OSError(28, "No space left on device")


class _Router:
    book: Any = None

    def act_on_engagements(self) -> None:
        pass


def test_a_release_that_cannot_be_persisted_is_a_refusal_not_an_internal_error() -> None:
    gate = RiskGate(RiskConfig.from_toml_table({}))
    gate.engage(KillScope.STRATEGY, "s1", now=0.0)
    gate.kill_journal = _FullDisk()
    target = ServiceTarget(
        engine=cast(Any, None), router=_Router(), risk=gate, gateway=None,
        config=cast(Any, None), config_path=Path("unused.toml"), load=cast(Any, None),
    )
    with pytest.raises(AdminRefused, match="stays engaged"):
        target.kill_switch(
            KillSwitchCommand(engage=False, scope=KillScope.STRATEGY, name="s1", cancel_all=False)
        )
    assert "s1" in gate.kill_switch.strategies
