"""Throughput, measured properly and recorded, never asserted: matmul TFLOP/s per dtype
and device-to-device copy GB/s, as the median of timed repeats after warm-up, with the
device synchronised around each timing.  The arch table's theoretical peak travels with
each figure so the report can show the ratio."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from fixtures.verdict import Verdict

WARMUP = 3


@dataclass(frozen=True)
class Timing:
    median_s: float
    repeats: int
    spread: float  # (max - min) / median


def _sync(torch: Any, device: str) -> None:
    if device != "cpu":
        torch.cuda.synchronize(device)


def time_it(torch: Any, device: str, fn: Callable[[], Any], repeats: int) -> Timing:
    for _ in range(WARMUP):
        fn()
    _sync(torch, device)
    times = []
    for _ in range(repeats):
        _sync(torch, device)
        t0 = time.perf_counter()
        fn()
        _sync(torch, device)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return Timing(med, repeats, (max(times) - min(times)) / med if med > 0 else float("inf"))


def matmul_tflops(torch: Any, device: str, dtype: str, n: int, repeats: int,
                  mm: Callable[[Any, Any], Any] | None = None) -> tuple[float, Timing, Any, Any, Any]:
    """TFLOP/s of an n x n x n matmul; returns the operands and result for a spot check."""
    dt = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=dt)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=dt)
    run = mm or (lambda x, y: x @ y)
    timing = time_it(torch, device, lambda: run(a, b), repeats)
    c = run(a, b)
    return 2 * n**3 / timing.median_s / 1e12, timing, a, b, c


def copy_gbps(torch: Any, device: str, nbytes: int, repeats: int) -> tuple[float, Timing]:
    """GB/s of a device-to-device copy (bytes read + bytes written)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    timing = time_it(torch, device, lambda: dst.copy_(src), repeats)
    return 2 * src.numel() * 4 / timing.median_s / 1e9, timing


def measurement_verdict(name: str, value: float, unit: str, peak: float | None, measurements: dict,
                        problem: str | None = None, peak_label: str = "",
                        other_peak: float | None = None, other_label: str = "") -> "Verdict":
    """A throughput figure passes as a measurement; it fails only when it is not one: a
    wrong result (`problem`) or no positive, finite value.

    `peak` is the figure the share is taken of (for FP32 on RDNA3 the peak with
    dual-issue, fixtures/knowledge/archs.toml); `other_peak` is shown beside it so a
    reader can compare chips whose peaks are quoted either way."""
    from fixtures.verdict import failed, passed

    if problem or not (math.isfinite(value) and value > 0):
        return failed(name, "correct results in a positive, finite time", problem or f"{value} {unit}",
                      measurements=measurements, why="a fast kernel that computes wrong numbers is not throughput")
    share = (f" = {value / peak:.1%} of the {peak:g} {unit} peak{' ' + peak_label if peak_label else ''}"
             if peak else " (no theoretical peak known)")
    if peak and other_peak:
        share += f" ({value / other_peak:.1%} of the {other_peak:g} {unit} peak {other_label})"
    return passed(name, "a measurement", f"{value:.3f} {unit}{share}", measurements=measurements)
