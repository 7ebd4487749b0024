"""Run `fixrouter sim` as a child process: start it, wait until it listens, stop it.

The demo, the benchmarks and the integration tests all need a real simulator in its own
process (so that it can be killed for real). Readiness is the one line the simulator
prints on stdout, `listening on 127.0.0.1:PORT`; anything else, or silence past the
timeout, is a failed start and the child is killed, never left behind.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

STARTUP_TIMEOUT = 30.0


class SimulatorStartError(RuntimeError):
    """The simulator exited or stayed silent instead of listening."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SimulatorProcess:
    """A running `fixrouter sim` child. Use as a context manager to be sure it stops."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        scenario: Path | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = data_dir.parent / f"{data_dir.name}.stderr.log"
        args = [sys.executable, "-m", "fixrouter.cli", "sim", "--port", str(self.port),
                "--data-dir", str(data_dir)]
        if scenario is not None:
            args += ["--scenario", str(scenario)]
        args += list(extra_args)
        with self.stderr_path.open("ab") as stderr:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr)
        try:
            self._wait_until_listening(startup_timeout)
        except BaseException:
            self.kill()
            raise

    def _wait_until_listening(self, timeout: float) -> None:
        assert self.proc.stdout is not None
        expected = f"listening on 127.0.0.1:{self.port}"
        line = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise SimulatorStartError(f"simulator silent for {timeout}s:\n{self.stderr()}")
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    raise SimulatorStartError(
                        f"simulator exited with {self.proc.wait()}:\n{self.stderr()}"
                    )
                line += chunk
        if line.decode(errors="replace").strip() != expected:
            raise SimulatorStartError(f"unexpected first line {line!r}:\n{self.stderr()}")

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: the simulator logs its sessions out and exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: the way a crash or a pulled cable looks to the other side."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.kill()
