"""Matmul TFLOP/s per dtype and copy GB/s: recorded with the theoretical peak, not asserted.

A measurement fails only if it is not a measurement: the timed matmul gives wrong
numbers (spot-checked against the CPU in float64) or no positive finite time.
"""

from __future__ import annotations

import pytest

from fixtures.sizes import MIB
from suites.torch.parity.faults import matching, run_faulty
from suites.torch.parity.tolerance import compare, tolerance_for
from suites.torch.throughput import copy_gbps, matmul_tflops, measurement_verdict

pytestmark = [pytest.mark.requires("torch"), pytest.mark.level("standard")]

SIZES = {"quick": 256, "standard": 1024, "full": 4096}
CPU_SIZES = {"quick": 256, "standard": 512, "full": 1024}
REPEATS = {"quick": 3, "standard": 7, "full": 15}


def _peaks(target, dtype, device) -> tuple[float | None, str, float | None, str]:
    """The target GPU's theoretical peak the share is taken of, with its label, and the
    other FP32 figure (without dual-issue) shown beside it; none on the CPU.  FP32 uses
    the dual-issue peak where the chip has one (one definition for every row of
    fixtures/knowledge/archs.toml: see its header)."""
    arch = target.arch
    if arch is None or device == "cpu":
        return None, "", None, ""
    if dtype != "float32":
        return arch.peak_fp16_tflops or None, "(dense FP16 matrix)", None, ""
    if arch.peak_fp32_dual_issue_tflops:
        return arch.peak_fp32_dual_issue_tflops, "with dual-issue", arch.peak_fp32_tflops or None, "without dual-issue"
    return arch.peak_fp32_tflops or None, "", None, ""


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_matmul_throughput(dtype, torch_module, torch_device, target, run_options, faults, check):
    """matmul throughput against the GPU's peak."""
    torch = torch_module
    level = run_options.level
    n = (CPU_SIZES if torch_device == "cpu" else SIZES)[level]
    fault = matching(faults, "matmul", dtype)
    mm = (lambda a, b: run_faulty(fault, lambda x, y: x @ y, [a, b], {})) if fault else None
    tflops, timing, a, b, c = matmul_tflops(torch, torch_device, dtype, n, REPEATS[level], mm)
    rows = slice(0, 8)
    ref = a[rows].double().cpu() @ b.double().cpu()
    tol = tolerance_for(dtype, "matmul", n)
    spot = compare(c[rows], ref, tol, a[rows].double().cpu().abs() @ b.double().cpu().abs())
    peak, label, other, other_label = _peaks(target, dtype, torch_device)
    m = {"n": n, "tflops": round(tflops, 4), "median_s": timing.median_s, "spread": round(timing.spread, 3),
         "peak_tflops": peak, "fraction_of_peak": round(tflops / peak, 4) if peak else None,
         "peak_tflops_without_dual_issue": other}
    check(measurement_verdict(f"{dtype} matmul {n}x{n}x{n} throughput", tflops, "TFLOP/s", peak, m,
                              None if spot.ok else spot.describe(tol), label, other, other_label))


def test_copy_bandwidth(torch_module, torch_device, target, run_options, check):
    """device memory copy bandwidth."""
    nbytes = (64 if torch_device == "cpu" else 256) * MIB
    gbps, timing = copy_gbps(torch_module, torch_device, nbytes, REPEATS[run_options.level])
    peak = target.arch.memory_bandwidth_gbs if target.arch and torch_device != "cpu" else None
    peak = peak or None
    m = {"bytes": nbytes, "gbps": round(gbps, 2), "median_s": timing.median_s, "peak_gbps": peak,
         "fraction_of_peak": round(gbps / peak, 4) if peak else None}
    check(measurement_verdict("device memory copy bandwidth", gbps, "GB/s", peak, m))
