"""The client library against a real gateway (stand-in core) over loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.client import (
    Accepted,
    BlockingClient,
    CancelRejected,
    Client,
    ConnectionClosed,
    ErrorCode,
    ExecKind,
    Execution,
    OrderStatus,
    RequestError,
    RequestRefused,
    SessionChanged,
)
from fixrouter.client.wire import request_line
from fixrouter.gateway import GatewayConfig, ListenAddress
from fixrouter.requests import NewOrder, OrderType, Side
from gateway.standin import StandInCore

from .conftest import Runner, serve


async def next_of(client: Client, kind: type, timeout: float = 5.0) -> object:
    event = await client.next_event(timeout)
    assert isinstance(event, kind), event
    return event


@pytest.mark.parametrize("kind", [0, 1], ids=["tcp", "unix"])
def test_order_lifecycle(run: Runner, sock_dir: Path, kind: int) -> None:
    async def main() -> None:
        async with (
            serve(sock_dir) as (_, core, urls),
            await Client.connect(urls[kind], "alpha") as client,
        ):
            assert await client.ping() < 1.0
            await client.new("o-1", "AAPL", Side.BUY, 100, OrderType.LIMIT, price=Decimal("187.25"))
            accepted = await next_of(client, Accepted)
            assert accepted == Accepted("o-1", "SI1")
            new = await next_of(client, Execution)
            assert isinstance(new, Execution) and new.exec_type is ExecKind.NEW

            core.fill("alpha", "o-1", Decimal(40), Decimal("187.25"))
            fill = await next_of(client, Execution)
            assert isinstance(fill, Execution)
            assert (fill.last_qty, fill.last_px, fill.leaves_qty) == (40, Decimal("187.25"), 60)

            state = await client.status("o-1")
            assert (state.status, state.cum_qty, state.price) == (
                OrderStatus.PARTIALLY_FILLED,
                40,
                Decimal("187.25"),
            )
            await client.replace("o-1", "o-2", qty=80, price="187.5")
            replaced = await next_of(client, Execution)
            assert isinstance(replaced, Execution) and replaced.id == "o-2"
            assert [s.id for s in await client.orders()] == ["o-2"]
            await client.cancel("o-2")
            canceled = await next_of(client, Execution)
            assert isinstance(canceled, Execution) and canceled.status is OrderStatus.CANCELED
            assert await client.orders() == []
            await client.cancel("o-2")
            assert await next_of(client, CancelRejected) == CancelRejected(
                "o-2", "order is canceled"
            )
            # what the engine saw: exact decimals, the connection's name
            first = core.requests[0]
            assert isinstance(first, NewOrder)
            assert (first.strategy, first.price, first.qty) == ("alpha", Decimal("187.25"), 100)

    run(main())


def test_refusals_raise_with_the_code(run: Runner) -> None:
    async def main() -> None:
        async with serve(clients={}) as (gateway, _, urls):
            url = urls[0]
            async with await Client.connect(url, "alpha") as client:
                with pytest.raises(RequestRefused) as caught:
                    await client.status("nope")
                assert caught.value.code is ErrorCode.UNKNOWN_ORDER
                with pytest.raises(RequestRefused) as caught:
                    await Client.connect(url, "alpha")
                assert caught.value.code is ErrorCode.NAME_IN_USE
                # a request the gateway refuses arrives as an error event, naming the field
                await client.new("o-1", "AAPL", "buy", "1.5", "market")
                error = await next_of(client, RequestError)
                assert isinstance(error, RequestError)
                assert (error.code, error.id) == (ErrorCode.BAD_VALUE, "o-1")
                assert error.reason.startswith("qty: ")
                await client.new("o-2", "AAPL", "buy", 1, "market", what_if="Y")
                error = await next_of(client, RequestError)
                assert isinstance(error, RequestError) and error.reason.startswith("what_if: ")
                with pytest.raises(RequestRefused) as caught:
                    await Client.connect(url, "not a name")
                assert caught.value.code is ErrorCode.BAD_VALUE
            with pytest.raises(ConnectionClosed):
                await Client.connect("tcp://127.0.0.1:1", "alpha")
            assert gateway.stats.hellos_refused == 1

    run(main())


def test_bad_token_is_refused(run: Runner) -> None:
    config = GatewayConfig.from_toml_table({"clients": {"alpha": {"token": "right"}}})

    async def main() -> None:
        async with serve(clients=config.clients) as (_, _core, urls):
            with pytest.raises(RequestRefused) as caught:
                await Client.connect(urls[0], "alpha", token="wrong")
            assert caught.value.code is ErrorCode.BAD_TOKEN
            async with await Client.connect(urls[0], "alpha", token="right") as client:
                assert await client.orders() == []

    run(main())


def test_two_strategies_never_see_each_other(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _, urls):
            alpha = await Client.connect(urls[0], "alpha")
            beta = await Client.connect(urls[0], "beta")
            await alpha.new("same-id", "AAPL", "buy", 1, "market")
            await beta.new("same-id", "MSFT", "sell", 2, "limit", price=10)
            alpha_events = [await alpha.next_event(5) for _ in range(3)]
            beta_events = [await beta.next_event(5) for _ in range(2)]
            assert all(getattr(e, "id", None) == "same-id" for e in alpha_events + beta_events)
            assert alpha_events[-1].status is OrderStatus.FILLED  # type: ignore[union-attr]
            assert beta_events[-1].status is OrderStatus.NEW  # type: ignore[union-attr]
            assert await alpha.next_event(0.2) is None
            assert await beta.next_event(0.2) is None
            assert [s.symbol for s in await beta.orders()] == ["MSFT"]
            assert await alpha.orders() == []
            gateway.broadcast_session(SessionChanged("IB-1", "logged_on"))
            for client in (alpha, beta):
                assert await client.next_event(5) == SessionChanged("IB-1", "logged_on")
            await alpha.close()
            await beta.close()

    run(main())


def test_events_end_when_the_gateway_goes(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _, urls):
            client = await Client.connect(urls[0], "alpha")
            await client.new("o-1", "AAPL", "buy", 1, "market")
            await client.new("o-2", "AAPL", "buy", 1, "limit", price=1)
            seen = []
            async for event in client.events():
                seen.append(event)
                if len(seen) == 5:
                    await gateway.close()
            kinds = [type(e).__name__ for e in seen]
            assert kinds == ["Accepted", "Execution", "Execution", "Accepted", "Execution"]
            with pytest.raises(ConnectionClosed):
                await client.next_event(1)
            with pytest.raises(ConnectionClosed):
                await client.new("o-2", "AAPL", "buy", 1, "market")
            await client.close()

    run(main())


def test_blocking_client() -> None:
    ready = threading.Event()
    stop: list[asyncio.AbstractEventLoop] = []
    urls: list[str] = []
    core = StandInCore()

    async def engine() -> None:
        from fixrouter.gateway import Gateway

        gateway = Gateway(GatewayConfig(listen=(ListenAddress("tcp", "127.0.0.1", 0),)), core)
        core.deliver = gateway.deliver
        await gateway.start()
        urls.append(str(gateway.addresses[0]))
        stop.append(asyncio.get_running_loop())
        ready.set()
        try:
            await asyncio.Event().wait()
        finally:
            await gateway.close()

    thread = threading.Thread(target=lambda: asyncio.run(_until_cancelled(engine())), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        with BlockingClient.connect(urls[0], "alpha") as client:
            assert client.ping() < 1.0
            assert client.next_event(0.1) is None
            client.new("o-1", "AAPL", "buy", 10, "limit", price="1.5")
            assert client.next_event(5) == Accepted("o-1", "SI1")
            assert isinstance(client.next_event(5), Execution)
            assert client.status("o-1").leaves_qty == 10
            client.replace("o-1", "o-2", price=Decimal("1.55"))
            assert isinstance(client.next_event(5), Execution)
            assert [s.price for s in client.orders()] == [Decimal("1.55")]
            client.cancel("o-2")
            event = client.next_event(5)
            assert isinstance(event, Execution) and event.exec_type is ExecKind.CANCELED
            with pytest.raises(RequestRefused):
                client.status("nope")
        with pytest.raises(RequestRefused):
            BlockingClient.connect(urls[0], "bad name")
    finally:
        loop = stop[0]
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(10)


async def _until_cancelled(coroutine: object) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await coroutine  # type: ignore[misc]


def test_request_lines_write_decimals_exactly() -> None:
    line = request_line(
        {"op": "new", "price": Decimal("0.00000001"), "qty": Decimal("100"), "x": None}
    )
    assert line == b'{"op":"new","price":"0.00000001","qty":100}\n'
