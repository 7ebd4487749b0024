"""The upstream gateway: where strategies connect, in newline-delimited JSON.

- `config`: the `[gateway]` settings (`GatewayConfig.from_toml_table`).
- `parse`: request line -> typed request or `RequestError` (pure, no I/O).
- `encode`: typed event -> JSON event line.
- `handler`: the `RequestHandler` protocol the engine implements (`fixrouter.router`).
- `server`: `Gateway`, the asyncio server (framing, identity, isolation, slow clients).

`spec/upstream-protocol.md` is the normative description of the wire protocol.
"""

from .config import ClientConfig, GatewayConfig, ListenAddress
from .encode import encode_event
from .handler import RequestHandler
from .parse import Hello, LineParser, Ping
from .server import Gateway, GatewayError, GatewayStats

__all__ = [
    "ClientConfig",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "GatewayStats",
    "Hello",
    "LineParser",
    "ListenAddress",
    "Ping",
    "RequestHandler",
    "encode_event",
]
