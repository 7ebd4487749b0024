"""Session-level counts taken from the session events the engine already emits.

`SessionEventCounter` is registered with `Engine.add_event_hook`; every FIX session event
passes through it (a few per minute in normal running, never per order), and it keeps
per-session integers:

* logons: `LOGGED_ON`;
* resend requests sent: `GAP_DETECTED` (the core emits it with every ResendRequest it
  sends, including the re-asks of a stalled gap);
* resend requests received: `RESEND_REQUESTED`;
* gap fills: `GAP_FILLED` (a gap we asked to be resent has been filled);
* heartbeat round trip: `HEARTBEAT_RTT`, whose detail is the TestRequest->Heartbeat time
  in seconds, into a histogram.

Disconnects by reason and reconnects are the transport's own counters (`TransportStats`),
read at scrape time: a disconnect is an action, not an event, and a dropped line has no
event at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from fixrouter.session import EventKind, SessionEvent

from .histogram import HistogramSample, LatencyHistogram

log = logging.getLogger("fixrouter.metrics")


class SessionCounts:
    __slots__ = ("gap_fills", "heartbeat_rtt", "logons", "resend_received", "resend_sent")

    def __init__(self) -> None:
        self.logons = 0
        self.resend_sent = 0
        self.resend_received = 0
        self.gap_fills = 0
        self.heartbeat_rtt = LatencyHistogram()

    def snapshot(self) -> SessionCountsSample:
        return SessionCountsSample(self.logons, self.resend_sent, self.resend_received,
                                   self.gap_fills, self.heartbeat_rtt.snapshot())


@dataclass(frozen=True, slots=True)
class SessionCountsSample:
    logons: int
    resend_sent: int
    resend_received: int
    gap_fills: int
    heartbeat_rtt: HistogramSample

    @classmethod
    def empty(cls) -> SessionCountsSample:
        return cls(0, 0, 0, 0, HistogramSample.empty())


class SessionEventCounter:
    """The engine's event hook (`engine.add_event_hook(counter)`). See the module docstring."""

    def __init__(self, sessions: Iterable[str] = ()) -> None:
        self.sessions: dict[str, SessionCounts] = {name: SessionCounts() for name in sessions}

    def __call__(self, name: str, event: SessionEvent) -> None:
        counts = self.sessions.get(name)
        if counts is None:
            counts = self.sessions[name] = SessionCounts()
        kind = event.kind
        if kind is EventKind.LOGGED_ON:
            counts.logons += 1
        elif kind is EventKind.GAP_DETECTED:
            counts.resend_sent += 1
        elif kind is EventKind.RESEND_REQUESTED:
            counts.resend_received += 1
        elif kind is EventKind.GAP_FILLED:
            counts.gap_fills += 1
        elif kind is EventKind.HEARTBEAT_RTT:
            try:
                counts.heartbeat_rtt.observe_seconds(float(event.detail))
            except ValueError:
                log.warning("%s: HEARTBEAT_RTT detail is not seconds: %r", name, event.detail)
