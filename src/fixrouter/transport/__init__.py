"""The asyncio side of a FIX session: sockets, TLS, reconnects, timers, group commit.

`SessionTransport` drives one sans-I/O `fixrouter.session.Session` over TCP (optionally
TLS) on the engine's event loop; `ReconnectPolicy` is its pure back-off and failover
policy; `TransportSettings` holds the QuickFIX-named socket settings; `CommitWatch`
counts the group commits in flight across sessions. Only this package and the gateway
know about asyncio.
"""

from .commits import CommitWatch
from .connection import SessionTransport, TransportStats
from .reconnect import Attempt, Endpoint, ReconnectPolicy
from .settings import TlsSettings, TransportSettings

__all__ = [
    "Attempt",
    "CommitWatch",
    "Endpoint",
    "ReconnectPolicy",
    "SessionTransport",
    "TlsSettings",
    "TransportSettings",
    "TransportStats",
]
