"""`/metrics` over HTTP, served from a thread; samples taken on the event loop.

Theory of operation
-------------------
`MetricsServer.start()` binds `[metrics] listen` and serves prometheus-client's WSGI app
from a small threading HTTP server (daemon threads: a stuck scraper never holds up the
engine's exit). Only `GET /metrics` answers; any other path is a 404, so the exposition
is where deploy/prometheus/prometheus.yml and the runbook say it is, and nowhere else.

The registry is private to the server (never prometheus-client's global one) and holds
the engine's `EngineCollector` plus the library's process, platform and GC collectors
(CPU, memory and file descriptors of the engine process).

A scrape runs in the HTTP thread, but the values it reads belong to the event loop.
`LoopSampler` bridges the two: it schedules the snapshot on the loop with
`call_soon_threadsafe` and waits for it (at most `timeout` seconds). The loop spends the
time of one snapshot per scrape (tens of µs for a few sessions; measured in
bench_metrics.py), between two callbacks, never in the middle of one. The text
formatting happens in the HTTP thread. If the loop does not answer in time (it is
blocked, or gone), the scrape fails with HTTP 500 and Prometheus records `up == 0`,
which is the truth: the engine is not responsive.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from fixrouter.errors import FixRouterError

from .collector import EngineSample
from .settings import METRICS_PATH, MetricsSettings

log = logging.getLogger("fixrouter.metrics")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class MetricsError(FixRouterError):
    """The metrics endpoint could not be served (the message names the address)."""


class LoopSampler:
    """Calls `take()` on `loop`'s thread and returns its result. See the module docstring."""

    def __init__(
        self,
        take: Callable[[], EngineSample],
        loop: asyncio.AbstractEventLoop,
        timeout: float = 2.0,
    ) -> None:
        self._take = take
        self._loop = loop
        self._timeout = timeout
        self._loop_thread = threading.get_ident()

    def __call__(self) -> EngineSample:
        """Raises TimeoutError if the loop did not run the snapshot in time, and whatever
        the snapshot raised."""
        if threading.get_ident() == self._loop_thread:
            return self._take()
        future: concurrent.futures.Future[EngineSample] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self._take())
            except BaseException as exc:  # handed to the scraping thread, which reports it
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        try:
            return future.result(self._timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"the event loop did not answer within {self._timeout} s"
            ) from None


def build_registry(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per scrape on stderr would drown the event log


def _only_metrics(app: WsgiApp) -> WsgiApp:
    def routed(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"not found: metrics are at {METRICS_PATH}\n".encode()]
        return app(environ, start_response)

    return routed


class MetricsServer:
    """Serves a registry at `settings.host:settings.port` + /metrics until `close()`."""

    def __init__(self, settings: MetricsSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self._registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound (port 0 in the settings: the one the OS chose)."""
        if self._server is None:
            return self.settings.host, self.settings.port
        return self.settings.host, self._server.server_port

    @property
    def url(self) -> str:
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{METRICS_PATH}"

    def start(self) -> None:
        """Bind and serve. Raises MetricsError if the address cannot be bound."""
        settings = self.settings
        server_class = _Server6 if ":" in settings.host else _Server
        app = _only_metrics(make_wsgi_app(self._registry))
        try:
            server = make_server(settings.host, settings.port, app, server_class,
                                 handler_class=_QuietHandler)
        except OSError as exc:
            raise MetricsError(
                f"cannot serve metrics on {settings.listen}: {exc.strerror or exc}"
            ) from None
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="metrics-http",
                                        daemon=True)
        self._thread.start()
        log.info("metrics at %s", self.url)

    def close(self) -> None:
        """Stop serving (waits for the serving loop, not for scrapes in flight)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
