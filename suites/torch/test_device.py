"""Does this torch build see the GPU as the right arch, and run a kernel on it?"""

from __future__ import annotations

import pytest

from fixtures.native import torch_bundled_targets
from fixtures.unknown import known
from suites.torch import checks
from suites.torch.device import build_facts, override_env

pytestmark = [pytest.mark.requires("torch"), pytest.mark.level("quick")]


@pytest.mark.requires("amd_gpu")
def test_rocm_build(torch_cpu_module, system, target, check):
    """torch is a ROCm build."""
    rocm = system.rocm.version_text if known(system.rocm.version_text) else None
    check(checks.rocm_build(build_facts(torch_cpu_module), target, rocm))


def test_device_reports_target_arch(device_facts, target, check):
    """the device reports the target's arch."""
    check(checks.device_arch(device_facts, target, override_env()))


def test_build_has_kernels_for_device(device_facts, target, check):
    """the torch build has kernels for the device."""
    check(checks.arch_in_build(device_facts, target, override_env()))


def test_override_fits_the_wheel(device_facts, target, check):
    """HSA_OVERRIDE_GFX_VERSION fits the PyTorch wheel's kernels."""
    check(checks.override_for_wheel(device_facts, target, override_env(), torch_bundled_targets()))


def test_first_kernel_launch(device_facts, target, check):
    """a first kernel runs on the device."""
    check(checks.first_launch(device_facts, target))


def test_memory_visible_beyond_carveout(device_facts, system, target, check):
    """torch sees GTT-sized memory on an APU."""
    check(checks.memory_visible(device_facts, system, target))
