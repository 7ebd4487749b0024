"""/metrics counts what the engine survived: scraped over HTTP from `fixrouter run`.

One session on the QuickFIX simulator. Provoked for real, over loopback:

* a hello with a wrong token and a malformed line (the gateway's counters);
* News from IB (the simulator's NEWS trick) and the status request after each logon;
* an orphan order: the engine is killed with -9, the session's intent log deleted, and
  the engine restarted; the recovery finds each journaled order without its owner, and
  the resting one (IBM) is still working at IB, so the status answer after the logon is
  an event nobody can be given.

The restarted engine starts with the orphans counted, which `increase()` cannot see: the
alerts also read `process_start_time_seconds` (prometheus-client's process collector, on
the same /metrics), so the test checks that it is there and moved.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from fixrouter.client import BlockingClient
from fixrouter.sim.process import free_port
from integration.harness import RouterProcess, SimHandle, wait_until  # type: ignore[import-not-found]

from .kit import REPO, Series, scrape_url, value, wait_accepted

pytestmark = pytest.mark.integration

ANOMALIES = "fixrouter_order_anomalies_total"
CONNECTIONS = "fixrouter_gateway_connections_total"
ERRORS = "fixrouter_request_errors_total"
DROPPED = "fixrouter_events_dropped_total"
STARTED = "process_start_time_seconds"


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="frsv-", dir="/tmp"))  # short: sun_path
    yield path
    shutil.rmtree(path, ignore_errors=True)


def line_exchange(port: int, *lines: bytes) -> list[dict[str, object]]:
    """Send each line on one raw connection and read one answer for each."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")
        answers = []
        for line in lines:
            sock.sendall(line + b"\n")
            answers.append(orjson.loads(reader.readline()))
        return answers


def test_gateway_events_news_and_orphans_reach_metrics(workdir: Path) -> None:
    sim = SimHandle(workdir / "sim", free_port(),
                    ["--scenario", str(REPO / "fix/scenarios/certification.toml")])
    engine: RouterProcess | None = None
    client: BlockingClient | None = None
    store = workdir / "store"
    try:
        sim.start()
        gateway = free_port()
        metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
        config = workdir / "router.toml"
        config.write_text(f"""
[[sessions]]
name = "desk1"
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {sim.port}
HeartBtInt = 5
FileStorePath = "{store}"
ReconnectInterval = 0.2
MaxReconnectInterval = 0.5

[gateway]
listen = ["tcp://127.0.0.1:{gateway}"]
[gateway.clients.locked]
token = "s3cret-t0ken-e2e"

[metrics]
listen = "{metrics_url.removeprefix('http://').removesuffix('/metrics')}"

[risk.global]
missing_reference = "warn"
""")
        engine = RouterProcess(workdir, config, tag="engine")
        engine.wait_log("desk1: asked IB for every open order")

        _, first = scrape_url(metrics_url)
        assert value(first, ANOMALIES, kind="orphan_order") == 0
        assert value(first, ANOMALIES, kind="overfill") == 0
        assert value(first, CONNECTIONS, event="hello_refused") == 0
        assert value(first, "fixrouter_order_status_requests_total") == 1
        started = value(first, STARTED)

        refused, = line_exchange(
            gateway, b'{"op": "hello", "client": "locked", "token": "wrong-t0ken-e2e"}')
        assert refused["ev"] == "error" and refused["code"] == "BAD_TOKEN", refused
        welcome, bad = line_exchange(gateway, b'{"op": "hello", "client": "raw"}', b"{oops")
        assert welcome["ev"] == "welcome" and bad["code"] == "BAD_JSON", (welcome, bad)

        client = BlockingClient.connect(f"tcp://127.0.0.1:{gateway}", "alpha")
        client.new("rest", "IBM", "buy", 5, "limit", price="150")  # rests at IB
        client.new("news", "NEWS", "buy", 3, "limit", price="100")  # IB sends News
        wait_accepted(client, {"rest", "news"})
        engine.wait_log("news from IB")

        series: Series = {}

        def counted() -> bool:
            series.update(scrape_url(metrics_url)[1])
            return value(series, "fixrouter_news_messages_total") >= 1 and value(
                series, CONNECTIONS, event="closed") >= 2

        wait_until(counted, 5, "news and both closed raw connections in /metrics")
        assert value(series, CONNECTIONS, event="hello_refused") == 1
        assert value(series, CONNECTIONS, event="opened") == 3  # refused, raw, alpha
        assert value(series, ERRORS, code="BAD_TOKEN") == 1
        assert value(series, ERRORS, code="BAD_JSON") == 1
        assert value(series, "fixrouter_gateway_lines_total") >= 5  # 3 hellos, bad, 2 new
        assert value(series, ANOMALIES, kind="orphan_order") == 0

        # A power loss that took the intent log with it: the journal alone is left.
        client.close()
        client = None
        engine.kill9()
        intent_logs = list(store.rglob("*.orders.log"))
        assert len(intent_logs) == 1, list(store.rglob("*"))
        intent_logs[0].unlink()
        engine = RouterProcess(workdir, config, tag="engine")
        engine.wait_log("desk1: asked IB for every open order")

        restarted: Series = {}

        def dropped() -> bool:
            restarted.update(scrape_url(metrics_url)[1])
            return value(restarted, DROPPED, reason="orphan") >= 1

        wait_until(dropped, 10, "the resting orphan's status report dropped, in /metrics")
        assert value(restarted, ANOMALIES, kind="orphan_order") == 2  # rest and news
        assert value(restarted, ANOMALIES, kind="garbled_journal_message") == 0
        assert value(restarted, STARTED) > started  # what the alerts read beside it
    finally:
        if client is not None:
            client.close()
        if engine is not None:
            engine.kill9()
        sim.kill()
