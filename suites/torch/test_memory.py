"""Can torch use memory beyond the VRAM carve-out (GTT), and does it hold what is written?"""

from __future__ import annotations

import pytest

from fixtures.sizes import MIB, format_bytes
from fixtures.unknown import known
from fixtures.verdict import failed, not_applicable, passed
from fixtures.target import target_card
from suites.torch.memory import pattern_test

pytestmark = [pytest.mark.requires("torch"), pytest.mark.level("standard")]


def verdict_of(name, result, expected_bytes):
    expected = f"{format_bytes(expected_bytes)} written with 4 patterns, read back intact, then released"
    found = f"{format_bytes(result.nbytes)}: {result.mismatches} wrong elements"
    m = {"bytes": result.nbytes, "mismatches": result.mismatches}
    if result.first_bad:
        pattern, index, got, want = result.first_bad
        found += f"; first: pattern {pattern}, element {index}: read {got:#x}, wrote {want:#x}"
    if result.released is False:
        found += (f"; memory not released: {format_bytes(result.allocated_after)} allocated after, "
                  f"{format_bytes(result.allocated_before)} before")
    if result.mismatches or result.released is False:
        return failed(name, expected, found, measurements=m,
                      why="memory that does not hold what was written corrupts models silently",
                      remedy="re-run; if it repeats, test the RAM (memtest86+) and lower the GPU/memory clocks")
    return passed(name, expected, found, measurements=m)


def test_memory_patterns(torch_module, torch_device, gtt_budget, check):
    """device memory holds written patterns."""
    size = min(gtt_budget, 256 * MIB)
    check(verdict_of("device memory holds written patterns", pattern_test(torch_module, torch_device, size), size))


def test_allocation_beyond_vram_carveout(torch_module, torch_device, device_facts, system, target, gtt_budget, check):
    """an allocation larger than the VRAM carve-out works."""
    name = "an allocation larger than the VRAM carve-out works"
    if not device_facts.is_gpu:
        check(not_applicable(name, "the device under test is the CPU"))
    if target.apu is not True:
        check(not_applicable(name, f"{target.gfx or 'the device'} is not an APU: its VRAM is its own"))
    card = target_card(system, target)
    if card is None or not known(card.vram_total):
        check(not_applicable(name, "the VRAM carve-out size is unknown"))
    vram = int(card.vram_total)
    size = vram + max(256 * MIB, vram // 2)
    if size > gtt_budget:
        check(not_applicable(name, f"{format_bytes(size)} needed, but the safe budget is {format_bytes(gtt_budget)}"))
    try:
        result = pattern_test(torch_module, torch_device, size)
    except RuntimeError as exc:  # out of memory: the runtime would not go past the carve-out
        check(failed(name, f"{format_bytes(size)} allocated (carve-out {format_bytes(vram)})",
                     str(exc).splitlines()[0][:300], remedy="kernel >= 6.10 and a larger GTT (see the kernel suite)"))
    check(verdict_of(name, result, size))
