"""The `[metrics]` table: where `/metrics` is served, and which positions are exported.

```toml
[metrics]
listen = "127.0.0.1:9464"          # HOST:PORT ([::1]:9464 for IPv6); port 0: any free port
enabled = true                     # false: no HTTP server and no collector at all
position_symbols = ["AAPL", "MSFT"]  # fixrouter_position series are kept to these symbols
```

Every key has a default, so an absent table serves on loopback port 9464. Loopback is the
default on purpose: the exposition has no authentication, and listing order flow and
positions to the network is a decision an operator takes by naming another address.

`position_symbols` exists because `fixrouter_position{account, symbol}` would otherwise
grow with every symbol ever traded (Prometheus cardinality is the operator's to bound);
the risk limits' per-symbol tables are added to it (see `position_symbols_for`).

Unknown keys are a `ConfigError` naming the key (the loader adds `[metrics]`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fixrouter.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:9464"
METRICS_PATH = "/metrics"
_KEYS = ("listen", "enabled", "position_symbols")


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    host: str = "127.0.0.1"
    port: int = 9464
    enabled: bool = True
    position_symbols: frozenset[str] = frozenset()

    @property
    def listen(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> MetricsSettings:
        """Raises ConfigError naming an unknown key or a bad value."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _KEYS:
                hint = difflib.get_close_matches(key, _KEYS, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(f"unknown key {key!r}{suffix} (known: {', '.join(_KEYS)})")
        host, port = parse_listen(table.get("listen", DEFAULT_LISTEN))
        enabled = table.get("enabled", True)
        if type(enabled) is not bool:
            raise ConfigError(f"enabled: expected true or false, got {enabled!r}")
        symbols = table.get("position_symbols", [])
        if not isinstance(symbols, list) or not all(isinstance(s, str) and s for s in symbols):
            raise ConfigError(f"position_symbols: expected a list of symbols, got {symbols!r}")
        return cls(host, port, enabled, frozenset(symbols))


def parse_listen(value: object) -> tuple[str, int]:
    """`HOST:PORT` or `[V6]:PORT` -> (host, port). Raises ConfigError naming `listen`."""
    if not isinstance(value, str):
        raise ConfigError(f"listen: expected \"HOST:PORT\", got {value!r}")
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
    else:
        host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"listen: {value!r} is not HOST:PORT (e.g. {DEFAULT_LISTEN!r})")
    return host, int(port_text)
