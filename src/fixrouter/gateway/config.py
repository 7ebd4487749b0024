"""The `[gateway]` settings, as frozen values.

The router's config loader hands the raw `[gateway]` TOML table to
`GatewayConfig.from_toml_table`, which checks every key and value and raises `ConfigError`
naming the key (with a close match as a hint) for anything unknown or ill-typed. Every
setting has a default, so an absent `[gateway]` table means one TCP listener on
127.0.0.1:7001 that lets any strategy name in.

```toml
[gateway]
listen = ["tcp://127.0.0.1:7001", "unix:///run/fixrouter/gw.sock"]
max_line_bytes = 65536          # longest request line; longer ones get LINE_TOO_LONG
max_outbound_bytes = 4194304    # per-client send buffer before the client is dropped
allow_duplicate_names = false   # a second connection under a live name gets NAME_IN_USE
allow_unknown_clients = true    # false: only names with a [gateway.clients.NAME] table
fractional_qty = ["CASH", "CMDTY"]  # sec_types whose qty may have decimals
hello_timeout = 10.0            # seconds a connection may stay silent before `hello`

[gateway.clients.momentum]
token_env = "MOMENTUM_TOKEN"    # or: token = "..." (prefer the environment)
```

Tokens are resolved from the environment here, once, so a missing variable fails at
start-up rather than at the strategy's first `hello`. They are kept out of `repr` so a
logged config never shows them.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from fixrouter.errors import ConfigError
from fixrouter.requests import SecurityType

DEFAULT_LISTEN = "tcp://127.0.0.1:7001"

# Strategy names end up in log lines, metric labels and (abbreviated) in the order book's
# keys, so they are kept to a conservative alphabet.
CLIENT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
MAX_TOKEN_LEN = 256

_GATEWAY_KEYS = (
    "listen",
    "max_line_bytes",
    "max_outbound_bytes",
    "allow_duplicate_names",
    "allow_unknown_clients",
    "fractional_qty",
    "hello_timeout",
    "clients",
)
_CLIENT_KEYS = ("token", "token_env")


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """One endpoint to listen on: `tcp://HOST:PORT` or `unix:///ABSOLUTE/PATH`."""

    kind: Literal["tcp", "unix"]
    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, url: str) -> ListenAddress:
        """Parse a listen URL. Port 0 asks the OS for a free port (tests).

        Raises:
            ConfigError: not a `tcp://` or `unix://` URL, or a bad host, port or path.
        """
        if url.startswith("tcp://"):
            rest = url[len("tcp://") :]
            if rest.startswith("["):  # IPv6 literal: tcp://[::1]:7001
                host, sep, port_text = rest[1:].partition("]:")
            else:
                host, sep, port_text = rest.rpartition(":")
            if not sep or not host or not port_text.isdigit():
                raise ConfigError(f"listen: {url!r} is not tcp://HOST:PORT")
            port = int(port_text)
            if port > 65535:
                raise ConfigError(f"listen: port {port} in {url!r} is out of range")
            return cls("tcp", host=host, port=port)
        if url.startswith("unix://"):
            path = url[len("unix://") :]
            if not path.startswith("/"):
                raise ConfigError(f"listen: {url!r} needs an absolute path (unix:///...)")
            # sockaddr_un.sun_path holds 108 bytes on Linux, including the NUL.
            if len(os.fsencode(path)) > 107:
                raise ConfigError(f"listen: socket path in {url!r} is longer than 107 bytes")
            return cls("unix", path=path)
        raise ConfigError(f"listen: {url!r} must start with tcp:// or unix://")

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """What the gateway knows about one named strategy."""

    name: str
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Settings of the upstream gateway. Every one has a default.

    Raises:
        ConfigError: a value out of range (the message names the setting).
    """

    listen: tuple[ListenAddress, ...] = (ListenAddress("tcp", "127.0.0.1", 7001),)
    max_line_bytes: int = 65536
    """Longest accepted request line, without its newline."""
    max_outbound_bytes: int = 4 * 1024 * 1024
    """Bytes queued for one client (beyond what the kernel took) before it is dropped.
    An `orders` reply counts too, so leave room for the largest book a strategy keeps."""
    allow_duplicate_names: bool = False
    allow_unknown_clients: bool = True
    fractional_qty: frozenset[SecurityType] = frozenset({SecurityType.CASH, SecurityType.CMDTY})
    hello_timeout: float = 10.0
    clients: Mapping[str, ClientConfig] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.listen:
            raise ConfigError("listen: give at least one address")
        if self.max_line_bytes < 256:
            raise ConfigError(f"max_line_bytes: {self.max_line_bytes} is below 256")
        if self.max_outbound_bytes < 4096:
            raise ConfigError(f"max_outbound_bytes: {self.max_outbound_bytes} is below 4096")
        if not self.hello_timeout > 0:
            raise ConfigError(f"hello_timeout: {self.hello_timeout} must be positive")

    @classmethod
    def from_toml_table(
        cls, table: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> GatewayConfig:
        """Build the config from the `[gateway]` table; `environ` defaults to os.environ.

        Raises:
            ConfigError: an unknown key, a value of the wrong type or range, a client with
                both or a bad token, or a `token_env` naming an unset variable.
        """
        env = os.environ if environ is None else environ
        for key in table:
            if key not in _GATEWAY_KEYS:
                raise ConfigError(_unknown(key, "[gateway]", _GATEWAY_KEYS))
        kwargs: dict[str, Any] = {}
        if "listen" in table:
            listen = table["listen"]
            if isinstance(listen, str):
                listen = [listen]
            if not isinstance(listen, list) or not all(isinstance(u, str) for u in listen):
                raise ConfigError("[gateway] listen: expected a list of URL strings")
            kwargs["listen"] = tuple(ListenAddress.parse(u) for u in listen)
        for key in ("max_line_bytes", "max_outbound_bytes"):
            if key in table:
                value = table[key]
                if type(value) is not int:
                    raise ConfigError(f"[gateway] {key}: expected an integer, got {value!r}")
                kwargs[key] = value
        for key in ("allow_duplicate_names", "allow_unknown_clients"):
            if key in table:
                value = table[key]
                if type(value) is not bool:
                    raise ConfigError(f"[gateway] {key}: expected true or false, got {value!r}")
                kwargs[key] = value
        if "hello_timeout" in table:
            value = table["hello_timeout"]
            if type(value) not in (int, float):
                raise ConfigError(f"[gateway] hello_timeout: expected seconds, got {value!r}")
            kwargs["hello_timeout"] = float(value)
        if "fractional_qty" in table:
            kwargs["fractional_qty"] = _sec_types(table["fractional_qty"])
        if "clients" in table:
            kwargs["clients"] = _clients(table["clients"], env)
        try:
            return cls(**kwargs)
        except ConfigError as e:
            raise ConfigError(f"[gateway] {e}") from None


def _sec_types(value: object) -> frozenset[SecurityType]:
    if not isinstance(value, list):
        raise ConfigError("[gateway] fractional_qty: expected a list of sec_type names")
    known = {t.value: t for t in SecurityType}
    out = set()
    for item in value:
        if not isinstance(item, str) or item not in known:
            raise ConfigError(
                f"[gateway] fractional_qty: {item!r} is not one of {', '.join(known)}"
            )
        out.add(known[item])
    return frozenset(out)


def _clients(value: object, env: Mapping[str, str]) -> Mapping[str, ClientConfig]:
    if not isinstance(value, dict):
        raise ConfigError("[gateway] clients: expected tables [gateway.clients.NAME]")
    out: dict[str, ClientConfig] = {}
    for name, entry in value.items():
        where = f"[gateway.clients.{name}]"
        if not CLIENT_NAME_RE.match(name):
            raise ConfigError(
                f"{where}: a client name is 1-32 of A-Z a-z 0-9 _ . - (starting alphanumeric)"
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        for key in entry:
            if key not in _CLIENT_KEYS:
                raise ConfigError(_unknown(key, where, _CLIENT_KEYS))
        if "token" in entry and "token_env" in entry:
            raise ConfigError(f"{where}: give token or token_env, not both")
        token: str | None = None
        if "token" in entry:
            token = entry["token"]
            if not isinstance(token, str):
                raise ConfigError(f"{where} token: expected a string")
        elif "token_env" in entry:
            var = entry["token_env"]
            if not isinstance(var, str) or not var:
                raise ConfigError(f"{where} token_env: expected an environment variable name")
            if var not in env:
                raise ConfigError(f"{where} token_env: environment variable {var} is not set")
            token = env[var]
        # The token's value is never put in a message: it may be a real secret.
        if token is not None and not _is_good_token(token):
            raise ConfigError(
                f"{where}: the token must be 1-{MAX_TOKEN_LEN} printable ASCII characters"
            )
        out[name] = ClientConfig(name, token)
    return MappingProxyType(out)


def _is_good_token(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LEN and token.isascii() and token.isprintable()


def _unknown(key: str, where: str, known: tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(key, known, n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown key {key!r} in {where}{suffix}"
