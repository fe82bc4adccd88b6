"""The torch suite's device checks on facts recorded from real machines (the captures
named below), each failing and passing; plus the memory test and the curve comparison
failing on injected faults."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fixtures.target import resolve_target
from fixtures.verdict import FAIL, NOT_APPLICABLE, PASS
from suites.torch import checks
from suites.torch.device import DeviceFacts
from suites.torch.training import compare_curves

MB = 1024**2
GIB = 1024**3
# captures/torch-gfx1100-rocm5040.txt: RX 7900 XTX, torch 2.9.0.dev20250713+rocm6.4
XTX = DeviceFacts("2.9.0.dev20250713+rocm6.4", "6.4.43482", None, "cuda", "Radeon RX 7900 XTX", "gfx1100",
                  ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101", "gfx1102"),
                  24560 * MB, 24000 * MB, 24560 * MB, False)
# A 780M under HSA_OVERRIDE_GFX_VERSION=11.0.0 reports gfx1100 (captures/dmesg-gfx1103-ollama5471.txt)
M780_OVERRIDE = replace(XTX, name="AMD Radeon Graphics", total_memory=48 * GIB, mem_free=47 * GIB,
                        mem_total=48 * GIB, is_integrated=True)
# captures/torch-gfx1033-rocm1815.txt: Steam Deck without an override
DECK = replace(XTX, name="AMD Custom GPU 0405", arch="gfx1033",
               launch_error="hipErrorNoBinaryForGpu: Unable to find code object for all current devices!")
CPU_BUILD = DeviceFacts("2.13.0+cpu", None, None, "cpu")


def target(recorded, name, apu="auto"):
    return resolve_target(apu, recorded(name))


@pytest.mark.parametrize("facts, machine, override, check, status, words", [
    (XTX, "rx7900xtx", None, "rocm_build", PASS, "ROCm/HIP 6.4"),
    (CPU_BUILD, "rx7900xtx", None, "rocm_build", FAIL, "CPU-only build"),
    (CPU_BUILD, "no-amd-gpu", None, "rocm_build", NOT_APPLICABLE, "no AMD target"),
    (XTX, "rx7900xtx", None, "device_arch", PASS, "gfx1100"),
    (M780_OVERRIDE, "780m-good", "11.0.0", "device_arch", PASS, "as intended"),
    (M780_OVERRIDE, "780m-good", None, "device_arch", FAIL, "HIP_VISIBLE_DEVICES"),
    (XTX, "rx7900xtx", None, "arch_in_build", PASS, "gfx1100"),
    (replace(XTX, arch="gfx1103"), "780m-good", None, "arch_in_build", FAIL, "HSA_OVERRIDE_GFX_VERSION=11.0.0"),
    (XTX, "rx7900xtx", None, "first_launch", PASS, "2048"),
    (DECK, "780m-good", None, "first_launch", FAIL, "no code object"),
    (replace(XTX, launch_error="HIP error: out of memory"), "rx7900xtx", None, "first_launch", FAIL, "kernel suite"),
    (CPU_BUILD, "780m-good", None, "device_arch", NOT_APPLICABLE, "CPU"),
])
def test_device_checks(recorded, facts, machine, override, check, status, words):
    t = target(recorded, machine)
    fn = getattr(checks, check)
    verdict = fn(facts, t) if check in ("rocm_build", "first_launch") else fn(facts, t, override)
    assert verdict.status == status, verdict.message()
    assert words in verdict.message() + verdict.remedy
    if status == FAIL:
        assert verdict.remedy


def test_memory_visible(recorded):
    good = checks.memory_visible(M780_OVERRIDE, recorded("780m-good"), target(recorded, "780m-good"))
    assert good.status == PASS and good.measurements["gtt_bytes"] == 48 * GIB
    # Kernel 6.8: the HIP runtime offers only the 512 MiB carve-out (captures/rocminfo-gfx90c-rocm3388.txt shape)
    old = replace(M780_OVERRIDE, total_memory=512 * MB, mem_total=512 * MB, mem_free=400 * MB)
    bad = checks.memory_visible(old, recorded("780m-kernel-6.8"), target(recorded, "780m-kernel-6.8"))
    assert bad.status == FAIL and "kernel >= 6.10" in bad.remedy
    # captures/torch-gfx1151-rocm6004.txt: free > total is reported, not failed
    odd = replace(M780_OVERRIDE, mem_total=int(62.47 * GIB), mem_free=120 * GIB)
    noted = checks.memory_visible(odd, recorded("strix-halo-cmdline"), target(recorded, "strix-halo-cmdline"))
    assert noted.status == PASS and "free > total" in noted.found


def test_memory_pattern_catches_corruption():
    torch = pytest.importorskip("torch")
    from suites.torch.memory import pattern_test

    def corrupt(buf):
        buf[12345] ^= 1 << 7

    result = pattern_test(torch, "cpu", 1 << 20, corrupt=corrupt)
    assert result.mismatches == len(("address", "inverse-address", "0x55", "0xAA"))
    assert result.first_bad[0] == "address" and result.first_bad[1] == 12345
    assert pattern_test(torch, "cpu", 1 << 20).mismatches == 0


def test_curve_comparison():
    cpu = [2.3, 2.0, 1.8, 1.6]
    assert compare_curves(list(cpu), cpu).ok
    drift = compare_curves([2.3, 2.0, 1.81, 1.6], cpu)
    assert not drift.ok and drift.worst_step == 2 and "step 2" in drift.message
    flat = compare_curves([2.3, 2.3, 2.3, 2.29], [2.3, 2.3, 2.3, 2.29])
    assert not flat.ok and not flat.decreased


@pytest.mark.parametrize("value, problem, status", [(12.5, None, PASS), (0.0, None, FAIL), (float("nan"), None, FAIL),
                                                    (float("inf"), None, FAIL), (40.0, "worst element [0, 1]", FAIL)])
def test_measurement_verdict(value, problem, status):
    from suites.torch.throughput import measurement_verdict

    verdict = measurement_verdict("copy", value, "GB/s", 89.6, {}, problem)
    assert verdict.status == status
    if status == PASS:
        assert "14.0% of the 89.6 GB/s peak" in verdict.found


def test_measurement_verdict_shows_both_fp32_peaks():
    """The share is of the dual-issue peak (archs.toml header); the plain one is shown beside it."""
    from suites.torch.throughput import measurement_verdict

    verdict = measurement_verdict("fp32", 4.147, "TFLOP/s", 8.294, {}, None, "with dual-issue", 4.147, "without dual-issue")
    assert "50.0% of the 8.294 TFLOP/s peak with dual-issue (100.0% of the 4.147 TFLOP/s peak without dual-issue)" \
        in verdict.found
