"""The bench's figures: percentiles, and the one table `fixrouter bench` prints.

Percentiles are nearest-rank over every sample of a run (no warm-up trimming here: the
controller runs a warm-up before it starts counting), in microseconds with one decimal.
The table puts fixrouter and, with `--peer quickfix`, QuickFIX side by side with the
ratio between them, measured in the same run: for latencies QuickFIX's figure divided by
fixrouter's, for rates fixrouter's divided by QuickFIX's, so a ratio above 1 always
means fixrouter is ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Figures = dict[str, Any]

_QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999))


def percentiles_us(samples_ns: Sequence[int]) -> dict[str, float]:
    """`n`, p50, p90, p99, p99.9 and max of nanosecond samples, in µs (empty: `n` 0)."""
    if not samples_ns:
        return {"n": 0}
    ordered = sorted(samples_ns)
    size = len(ordered)
    out: dict[str, float] = {"n": size}
    for name, q in _QUANTILES:
        out[name] = round(ordered[min(size - 1, int(q * size))] / 1000.0, 1)
    out["max"] = round(ordered[-1] / 1000.0, 1)
    return out


def _us(figures: Figures | None, key: str, quantile: str) -> float | None:
    if not figures:
        return None
    values = figures.get(key) or {}
    value = values.get(quantile)
    return float(value) if value is not None else None


def _rate(figures: Figures | None) -> float | None:
    if not figures:
        return None
    value = figures.get("orders_per_s")
    return float(value) if value is not None else None


def _fmt_us(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} µs"


def _fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}/s"


def _ratio(ours: float | None, theirs: float | None, latency: bool) -> str:
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return ""
    value = theirs / ours if latency else ours / theirs
    return f"{value:.1f}×"


def render_table(result: Figures) -> str:
    """The human-readable report of one `fixrouter bench` run."""
    opts = result["options"]
    ours = result["fixrouter"]
    theirs = result.get("quickfix") or {}
    peer = bool(theirs)
    rate = opts["rate"]
    rows: list[tuple[str, str, str, str]] = []

    def latency(label: str, run: str, key: str, quantiles: Sequence[str],
                peer_key: str | None = None) -> None:
        for i, q in enumerate(quantiles):
            a = _us(ours.get(run), key, q)
            b = _us(theirs.get(run), peer_key, q) if peer and peer_key else None
            name = f"{label:<34}" if i == 0 else " " * 34
            rows.append((f"{name}{_q_name(q):>6}", _fmt_us(a),
                         _fmt_us(b) if peer else "", _ratio(a, b, True)))

    def cpu_per_order(label: str, run: str) -> None:
        def cost(figures: Figures | None) -> float | None:
            rate_ = _rate(figures)
            return figures["engine_cpu"] * 1e6 / rate_ if figures and rate_ else None

        a, b = cost(ours.get(run)), cost(theirs.get(run)) if peer else None
        rows.append((f"{label:<40}", _fmt_us(a), _fmt_us(b) if peer else "",
                     _ratio(a, b, True)))

    def throughput(label: str, run: str) -> None:
        a, b = _rate(ours.get(run)), _rate(theirs.get(run)) if peer else None
        rows.append((f"{label:<40}", _fmt_rate(a), _fmt_rate(b) if peer else "",
                     _ratio(a, b, False)))

    latency(f"tick-to-wire @ {rate:,.0f}/s", "paced", "tick_to_wire_us",
            ("p50", "p99", "p999", "max"), "send_path_us")
    latency("tick-to-wire @ saturation (one-way)", "one_way", "tick_to_wire_us",
            ("p50", "p99", "p999", "max"))
    latency(f"round trip to exec new @ {rate:,.0f}/s", "paced", "rtt_us", ("p50", "p99"),
            "rtt_us")
    throughput(f"throughput one-way into sink ({opts['duration']:g} s)", "one_way")
    throughput(f"throughput, every order acked ({opts['duration']:g} s)", "acked")
    cpu_per_order("engine CPU per order, one-way", "one_way")
    cpu_per_order("engine CPU per order, acked", "acked")
    if "paced_late" in ours:
        latency(f"tick-to-wire @ {rate:,.0f}/s after the runs", "paced_late",
                "tick_to_wire_us", ("p50", "p99", "p999", "max"))

    head = ("", "fixrouter", "QuickFIX" if peer else "", "ratio" if peer else "")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    env = result["environment"]
    lines = [
        f"fixrouter bench: {opts['durability']} durability, risk gate and journal on, "
        f"{env['engine']};",
        f"{env['placement']}",
        "",
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(
            zip(head, widths, strict=True))).rstrip(),
    ]
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(
            zip(row, widths, strict=True))).rstrip())
    lines.append("")
    res = result["resources"]
    lines.append(
        f"engine RSS {res['rss_start_mb']:.1f} MB -> {res['rss_end_mb']:.1f} MB over "
        f"{res['orders']:,} resting orders ({res['rss_growth_per_1m_orders_mb']:+.0f} MB per "
        f"million, extrapolated); engine CPU {res['cpu_start_s']:.1f} s -> "
        f"{res['cpu_end_s']:.1f} s"
    )
    memory = result.get("memory")
    if memory:
        lines.extend(_memory_lines(memory))
    for run in ("paced", "acked", "one_way"):
        figures = ours.get(run)
        if figures:
            idle = figures.get("engine_idle")
            lines.append(f"engine CPU during {run.replace('_', '-')}: "
                         f"{figures['engine_cpu'] * 100:.0f}% of a core" + (
                             "" if idle is None else
                             f", idle {idle * 100:.0f}% of the run (no socket had data)"))
    lines.append(result["acceptor_check"]["statement"])
    if peer:
        lines.append(
            "QuickFIX: SocketInitiator + FileStore driven from Python on the engine's CPU; "
            "its tick-to-wire is from having the order's values to sendToTarget's return "
            "(message build, store write, socket write). At saturation fixrouter's includes "
            "the wait behind the other lines of its read, QuickFIX's send path has none: "
            "not comparable, see the JSON (send_path_us).")
    lines.append("every order acknowledged: " + ("yes" if result["all_acknowledged"] else
                                                 "NO: " + "; ".join(result["problems"])))
    return "\n".join(lines)


def _memory_lines(memory: Figures) -> list[str]:
    run = memory["run"]
    held = memory["held_at_end"]
    rate = run.get("orders_per_s")
    out = [
        f"memory run, {memory['orders']:,} orders filled after a {memory['warmup_orders']:,}"
        f"-order warm-up ({memory['window']} in flight, "
        f"{'—' if rate is None else f'{rate:,.0f}/s'}): engine RSS "
        f"{memory['rss_start_mb']:.1f} MB at start, {memory['rss_after_warmup_mb']:.1f} MB "
        f"after the warm-up, {memory['rss_end_mb']:.1f} MB at the end (peak "
        f"{memory['rss_peak_mb']:.1f} MB): {memory['rss_growth_mb']:+.1f} MB, "
        f"{memory['rss_growth_per_1m_orders_mb']:+.1f} MB per million finished orders",
        "  held at the end: " + ", ".join(f"{k.replace('_', ' ')} {v:,}"
                                          for k, v in held.items()),
    ]
    curve = memory.get("rss_curve") or []
    if curve:
        out.append("  RSS by orders accepted: " + ", ".join(
            f"{n / 1000:,.0f}k {mb:.0f} MB" for n, mb in curve))
    return out


def _q_name(q: str) -> str:
    return {"p999": "p99.9"}.get(q, q)
