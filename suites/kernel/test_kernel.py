"""Is the kernel side right for GPU compute with GTT memory?

Each test hands a pure check (suites/kernel/checks.py) the probed machine and concludes
from its Verdict; the self-tests run the same checks on recorded machines.
"""

from __future__ import annotations

import pytest

from suites.kernel import checks

pytestmark = [pytest.mark.requires("amd_gpu"), pytest.mark.level("quick")]


def test_amdgpu_driver(system, check):
    """amdgpu driver loaded and driving a card."""
    check(checks.amdgpu_driver(system))


def test_kernel_supports_gtt_on_apu(system, target, check):
    """kernel lets KFD use GTT on an APU."""
    check(checks.kernel_supports_gtt(system, target))


def test_ttm_pages_limit_matches_gtt(system, target, check):
    """TTM pages_limit agrees with the GTT amdgpu reports."""
    check(checks.ttm_matches_gtt(system, target))


def test_modprobe_config_in_effect(system, check):
    """configured TTM limits are in effect."""
    check(checks.modprobe_in_effect(system))


def test_modprobe_lines_not_ignored(system, check):
    """no GPU memory setting is ignored by modprobe."""
    check(checks.modprobe_lines_ignored(system))


def test_gttsize_not_deprecated(system, check):
    """GTT is sized through TTM, not the deprecated amdgpu.gttsize."""
    check(checks.gttsize_not_deprecated(system))


def test_gtt_at_least_min_gtt(system, target, run_options, check):
    """GTT is at least --min-gtt."""
    check(checks.gtt_at_least(system, target, run_options.min_gtt))


def test_gtt_leaves_host_memory(system, target, check):
    """GTT leaves memory for the host."""
    check(checks.gtt_leaves_host_memory(system, target))


def test_vram_carveout(system, target, check):
    """VRAM carve-out suits a kernel with GTT."""
    check(checks.vram_carveout(system, target))


def test_kfd_device_usable(system, check):
    """/dev/kfd is usable."""
    check(checks.kfd_access(system))


def test_render_node_usable(system, target, check):
    """the GPU's render node is usable."""
    check(checks.render_node_access(system, target))


def test_kfd_gpu_node_matches_target(system, target, check):
    """a KFD GPU node has the target's gfx."""
    check(checks.kfd_node_matches(system, target))


def test_hsa_override(system, target, check):
    """HSA_OVERRIDE_GFX_VERSION fits the GPU."""
    check(checks.hsa_override(system, target))


def test_rocm_version(system, run_options, check):
    """ROCm version meets --rocm."""
    check(checks.rocm_version(system, run_options.rocm))


@pytest.mark.level("standard")
def test_rocminfo_sees_gpu(system, target, check):
    """the ROCm runtime (rocminfo) opens the GPU."""
    check(checks.rocminfo_sees_gpu(system, target))
