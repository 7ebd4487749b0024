"""metrics/server: /metrics over HTTP on loopback, samples taken on the event loop."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request

import pytest

from fixrouter.metrics import MetricsSettings
from fixrouter.metrics.collector import EngineCollector, EngineSample, SessionSample
from fixrouter.metrics.server import LoopSampler, MetricsError, MetricsServer, build_registry
from fixrouter.session import SessionState

from .kit import scrape_url, value


def sample() -> EngineSample:
    return EngineSample([SessionSample("s1", SessionState.ACTIVE, True, 5, 6)], orders_received=3)


def test_serves_metrics_on_loopback_and_nothing_else() -> None:
    server = MetricsServer(MetricsSettings(port=0), build_registry(EngineCollector(sample)))
    server.start()
    try:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0
        types, series = scrape_url(server.url)
        assert value(series, "fixrouter_orders_received_total") == 3
        assert value(series, "fixrouter_session_up", session="s1") == 1
        assert "process_cpu_seconds" in types  # the process collector is registered too
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert caught.value.code == 404
    finally:
        server.close()
    server.close()  # idempotent


def test_a_taken_port_is_an_error_naming_the_address() -> None:
    first = MetricsServer(MetricsSettings(port=0), build_registry(EngineCollector(sample)))
    first.start()
    try:
        port = first.address[1]
        second = MetricsServer(MetricsSettings(port=port),
                               build_registry(EngineCollector(sample)))
        with pytest.raises(MetricsError, match=f"127.0.0.1:{port}"):
            second.start()
    finally:
        first.close()


def test_loop_sampler_takes_the_sample_on_the_loop_thread() -> None:
    threads: list[int] = []

    def take() -> EngineSample:
        threads.append(threading.get_ident())
        return sample()

    async def main() -> None:
        sampler = LoopSampler(take, asyncio.get_running_loop())
        assert sampler().orders_received == 3  # on the loop thread: called directly
        result = await asyncio.to_thread(sampler)  # from another thread: hopped over
        assert result.orders_received == 3

    asyncio.run(main())
    assert len(threads) == 2 and threads[0] == threads[1]


def test_loop_sampler_times_out_when_the_loop_is_blocked() -> None:
    async def main() -> None:
        sampler = LoopSampler(sample, asyncio.get_running_loop(), timeout=0.1)
        outcome: list[BaseException] = []

        def scrape() -> None:
            try:
                sampler()
            except TimeoutError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=scrape)
        thread.start()
        thread.join()  # blocks the loop: the sample can never be taken
        assert outcome and "did not answer" in str(outcome[0])

    asyncio.run(main())
