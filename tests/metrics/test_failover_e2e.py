"""/metrics counts failovers: scraped over HTTP from `fixrouter run` after a real failover.

Two sessions: `desk1` logs on to the QuickFIX simulator, `desk2` points at a loopback port
where nothing listens, so it never logs on. Strategy `fo` routes to desk2 first, then
desk1, with `failover = true`: its orders go out on desk1, and the exporter must say so
under `fixrouter_failovers_total{from_session="desk2", to_session="desk1"}`, the reverse
pair staying at 0. The routing counters the router keeps beside it (cancels queued,
session-level refusals) are exported at 0 from the first scrape.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixrouter.client import BlockingClient
from fixrouter.sim.process import free_port
from integration.harness import RouterProcess, SimHandle, wait_until  # type: ignore[import-not-found]

from .kit import REPO, Series, scrape_url, value, wait_accepted

pytestmark = pytest.mark.integration

FAILOVERS = "fixrouter_failovers_total"


def dead_port() -> tuple[socket.socket, int]:
    """A loopback port bound but never listening: every connection to it is refused, and
    no other process can take it while the test holds the socket."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="frfo-", dir="/tmp"))  # short: sun_path
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_failover_is_counted_from_preferred_to_chosen_session(workdir: Path) -> None:
    sim = SimHandle(workdir / "sim", free_port(),
                    ["--scenario", str(REPO / "fix/scenarios/certification.toml"),
                     "--target-comp-id", "DESK1"])
    hole, desk2_port = dead_port()
    engine: RouterProcess | None = None
    client: BlockingClient | None = None
    try:
        sim.start()
        gateway = free_port()
        metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        config = workdir / "router.toml"
        config.write_text("".join(f"""
[[sessions]]
name = "{name}"
SenderCompID = "{comp}"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {port}
HeartBtInt = 5
FileStorePath = "{workdir / 'store' / name}"
ReconnectInterval = 0.2
MaxReconnectInterval = 0.5
""" for name, comp, port in (("desk1", "DESK1", sim.port), ("desk2", "DESK2", desk2_port)))
            + f"""
[gateway]
listen = ["tcp://127.0.0.1:{gateway}"]

[metrics]
listen = "{metrics_url.removeprefix('http://').removesuffix('/metrics')}"

[risk.global]
missing_reference = "warn"

[routing]
failover = true
[routing.strategies]
fo = ["desk2", "desk1"]
""")
        engine = RouterProcess(workdir, config, tag="engine")
        engine.wait_log("desk1: asked IB for every open order")

        _, before = scrape_url(metrics_url)
        assert value(before, FAILOVERS, from_session="desk2", to_session="desk1") == 0
        assert value(before, FAILOVERS, from_session="desk1", to_session="desk2") == 0
        assert value(before, "fixrouter_cancels_queued_total") == 0
        assert value(before, "fixrouter_session_refusals_total") == 0
        assert value(before, "fixrouter_session_up", session="desk2") == 0

        client = BlockingClient.connect(f"tcp://127.0.0.1:{gateway}", "fo")
        for order_id, qty in (("f1", 5), ("f2", 6)):  # not identical: no duplicate denial
            client.new(order_id, "AAPL", "buy", qty, "limit", price="190")
        wait_accepted(client, {"f1", "f2"})
        engine.wait_log("failing over to desk1", count=2)

        series: Series = {}

        def counted() -> bool:
            series.update(scrape_url(metrics_url)[1])
            return value(series, FAILOVERS, from_session="desk2", to_session="desk1") == 2

        wait_until(counted, 5, "2 failovers desk2 -> desk1 in /metrics")
        assert value(series, FAILOVERS, from_session="desk1", to_session="desk2") == 0
        assert value(series, "fixrouter_orders_accepted_total", session="desk1") == 2
        assert value(series, "fixrouter_orders_accepted_total", session="desk2") == 0
    finally:
        if client is not None:
            client.close()
        if engine is not None:
            engine.kill9()
        sim.kill()
        hole.close()
