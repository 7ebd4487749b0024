"""Settings of the transport for one session: where to connect, how to retry, TLS.

Like `fixrouter.session.config`, these are plain frozen values; `fixrouter.config` fills
them from the TOML file's QuickFIX-named keys (SocketConnectHost, ReconnectInterval,
SocketUseSSL, ...). Validation that only concerns one value lives here, so a settings
object that exists is usable.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from fixrouter.errors import ConfigError

from .reconnect import Endpoint


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS towards the counterparty. The server certificate is always verified.

    `ca_file` None trusts the system's CAs; `cert_file`/`key_file` present a client
    certificate (key_file None: the key is in cert_file). `server_hostname` overrides the
    name checked against the certificate (default: the host connected to).
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.key_file is not None and self.cert_file is None:
            raise ConfigError("ClientCertificateKeyFile needs ClientCertificateFile")

    def context(self) -> ssl.SSLContext:
        """A client context: TLS 1.2 or later, hostname and chain verified.

        Raises ConfigError naming the file when a CA, certificate or key cannot be loaded
        (the message never contains key material).
        """
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            if self.ca_file is not None:
                ctx.load_verify_locations(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"CertificationAuthoritiesFile {self.ca_file}: {e}") from None
        try:
            if self.cert_file is not None:
                ctx.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(
                f"ClientCertificateFile {self.cert_file} / ClientCertificateKeyFile "
                f"{self.key_file}: {e}"
            ) from None
        return ctx


@dataclass(frozen=True, slots=True)
class TransportSettings:
    """How one session reaches its counterparty.

    Raises:
        ConfigError: no endpoint, or a value out of range (named by its QuickFIX key).
    """

    endpoints: tuple[Endpoint, ...]
    reconnect_interval: float = 30.0
    """Base of the back-off, seconds (QuickFIX ReconnectInterval)."""
    max_reconnect_interval: float = 120.0
    """Cap of the back-off, seconds."""
    reconnect_jitter: float = 0.2
    """Each wait is shortened by a random fraction of up to this much."""
    connect_timeout: float = 10.0
    """Give up a TCP (and TLS) connect after this many seconds."""
    nodelay: bool = True
    """TCP_NODELAY: an order must not wait for Nagle's algorithm."""
    tls: TlsSettings | None = None

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise ConfigError("SocketConnectHost and SocketConnectPort are required")
        for i, endpoint in enumerate(self.endpoints):
            suffix = str(i) if i else ""
            if not endpoint.host:
                raise ConfigError(f"SocketConnectHost{suffix} must not be empty")
            if not 0 < endpoint.port < 65536:
                raise ConfigError(
                    f"SocketConnectPort{suffix} must be 1..65535, not {endpoint.port}"
                )
        if self.reconnect_interval <= 0:
            raise ConfigError(f"ReconnectInterval must be > 0, got {self.reconnect_interval}")
        if self.max_reconnect_interval < self.reconnect_interval:
            raise ConfigError(
                f"MaxReconnectInterval ({self.max_reconnect_interval}) must be at least "
                f"ReconnectInterval ({self.reconnect_interval})"
            )
        if not 0 <= self.reconnect_jitter < 1:
            raise ConfigError(f"ReconnectJitter must be in [0, 1), got {self.reconnect_jitter}")
        if self.connect_timeout <= 0:
            raise ConfigError(f"SocketConnectTimeout must be > 0, got {self.connect_timeout}")
