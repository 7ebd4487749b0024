"""How `fixrouter bench` drives its helper processes: JSON lines over stdin and stdout.

Theory of operation
-------------------
Each helper (the benchmark acceptor, the load generator, the QuickFIX peer) is a child
process started with `python -m fixrouter.bench.<module>`. Its first stdout line says it
is ready (and, for the acceptor, which port it listens on). Then the parent writes one
command per line (`{"cmd": "paced", ...}`) and the child answers each with one JSON
line, in order; `{"cmd": "quit"}` (or EOF) ends it. Anything a child logs goes to its
stderr, which the parent sends to a file in the work directory and shows on failure.

Nothing here is on a measured path: commands flow only between runs.

`pin_to_cpu` restricts a process to one CPU. On the 2-core machine the engine gets core
0 and the acceptor and load generator share core 1, so the engine's figures are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

Command = dict[str, Any]
Reply = dict[str, Any]
Handler = Callable[[Command], Reply]
AsyncHandler = Callable[[Command], Awaitable[Reply]]


class ControlError(Exception):
    """A helper process failed, answered with an error, or did not answer in time."""


def pin_to_cpu(cpu: int | None) -> None:
    """Run this process on `cpu` only (None, or a CPU this machine lacks: leave it).

    A child inherits its parent's affinity, so this widens it as well as narrows it."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {cpu})


def send(reply: Reply) -> None:
    """Write one reply line to stdout (blocking: replies are rare and small)."""
    sys.stdout.buffer.write(orjson.dumps(reply) + b"\n")
    sys.stdout.buffer.flush()


def _answer(handler: Handler, line: bytes) -> Reply | None:
    """The reply to one command line; None for `quit`."""
    try:
        command = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return {"error": f"bad command: {e}"}
    if command.get("cmd") == "quit":
        return None
    try:
        return handler(command)
    except Exception as e:  # the parent decides what a failed command means
        return {"error": f"{type(e).__name__}: {e}"}


def serve_blocking(handler: Handler) -> None:
    """Answer commands from stdin until `quit` or EOF (for helpers without a loop)."""
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        reply = _answer(handler, line)
        if reply is None:
            return
        send(reply)


class ControlLoop:
    """Answers commands from stdin on a running asyncio loop (the helper's), one at a
    time, each to its end (a run takes seconds; the loop goes on serving sockets)."""

    def __init__(self, handler: AsyncHandler) -> None:
        self._handler = handler

    def send(self, reply: Reply) -> None:
        send(reply)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            if not line.strip():
                continue
            try:
                command = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                send({"error": f"bad command: {e}"})
                continue
            if command.get("cmd") == "quit":
                return
            try:
                reply = await self._handler(command)
            except Exception as e:  # the parent decides what a failed command means
                reply = {"error": f"{type(e).__name__}: {e}"}
            send(reply)


class Child:
    """The parent's handle on one helper process."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.hello: Reply = {}

    @classmethod
    async def start(cls, name: str, module: str, args: list[str], workdir: Path,
                    timeout: float = 30.0) -> Child:
        """Start `python -m module args` and wait for its first line.

        Raises ControlError if it exits or stays silent for `timeout` seconds.
        """
        log_path = workdir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, *args,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log_file,
                limit=1 << 24,
            )
        child = cls(name, process, log_path)
        child.hello = await child._read(timeout)
        return child

    async def request(self, command: Command, timeout: float = 120.0) -> Reply:
        """Send one command and return its reply. Raises ControlError on an error reply."""
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(orjson.dumps(command) + b"\n")
        await stdin.drain()
        reply = await self._read(timeout)
        if "error" in reply:
            raise ControlError(f"{self.name}: {command.get('cmd')}: {reply['error']}")
        return reply

    async def _read(self, timeout: float) -> Reply:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            line = await asyncio.wait_for(stdout.readline(), timeout)
        except TimeoutError:
            raise ControlError(f"{self.name}: no answer within {timeout:g} s"
                               f"{self._log_tail()}") from None
        if not line:
            code = await self.process.wait()
            raise ControlError(f"{self.name} exited with status {code}{self._log_tail()}")
        reply: Reply = orjson.loads(line)
        return reply

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip()
        except OSError:
            return ""
        return "; its log ends:\n" + "\n".join(text.splitlines()[-15:]) if text else ""

    async def close(self, timeout: float = 10.0) -> None:
        """Ask it to quit; kill it if it does not go within `timeout` seconds."""
        process = self.process
        if process.returncode is not None:
            return
        stdin = process.stdin
        if stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                stdin.write(b'{"cmd":"quit"}\n')
                await stdin.drain()
                stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
