"""Fixtures shared by the suites that use torch (torch, hf, onnxruntime).  torch is
imported here, inside fixtures, never at collection: `pytest --collect-only` does not
load it."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.sizes import GIB, MIB
from fixtures.unknown import known
from plugins.live import device_skip_reason, replay_skip_reason
from plugins.skips import skip_here
from plugins.state import run_state
from suites.torch.device import DeviceFacts, DeviceUnavailable, gather_facts, resolve_device
from suites.torch.parity.faults import Fault, check_fault

# Share of what is free (device memory and RAM, the smaller) that memory tests may take.
BUDGET_FRACTION = {"quick": 0.05, "standard": 0.25, "full": 0.6}
CPU_BUDGET_CAP = {"quick": 64 * MIB, "standard": 256 * MIB, "full": 2 * GIB}
EXAMPLES = {"quick": 3, "standard": 10, "full": 60}  # hypothesis examples per op and dtype


@pytest.fixture(scope="session")
def live_machine(pytestconfig: pytest.Config) -> None:
    """Suites that run software (torch, Transformers, ONNX Runtime) test this machine: when a
    recording is replayed they skip, unless --live or --torch-device says to run them here."""
    reason = replay_skip_reason(pytestconfig)
    if reason:
        skip_here(reason)


def _import_torch() -> Any:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything
        skip_here(f"torch could not be imported: {type(exc).__name__}: {exc}")
    return torch


@pytest.fixture(scope="session")
def torch_cpu_module(live_machine: None) -> Any:
    """torch for work on the CPU (references, model export, reading the build): any build."""
    return _import_torch()


@pytest.fixture(scope="session")
def torch_module(pytestconfig: pytest.Config) -> Any:
    """torch for the device under test, or a skip saying why there is none; a CPU-only
    build with --torch-device auto skips without importing torch (about 1-2 s saved)."""
    reason = device_skip_reason(pytestconfig)
    if reason:
        skip_here(reason)
    return _import_torch()


@pytest.fixture(scope="session")
def torch_device(torch_module: Any, pytestconfig: pytest.Config) -> str:
    """The device under test: `cuda` on a ROCm or CUDA build, or --torch-device."""
    state = run_state(pytestconfig)
    try:
        device = resolve_device(torch_module, state.options.torch_device, state.profile)
    except DeviceUnavailable as exc:
        skip_here(str(exc))
    state.component_versions["torch"] = str(torch_module.__version__)  # TorchVersion does not cross xdist
    return device


@pytest.fixture(scope="session")
def device_facts(torch_module: Any, torch_device: str) -> DeviceFacts:
    return gather_facts(torch_module, torch_device)


@pytest.fixture(scope="session")
def faults(pytestconfig: pytest.Config) -> tuple[Fault, ...]:
    return tuple(check_fault(f) for f in run_state(pytestconfig).options.inject_faults)


@pytest.fixture(scope="session")
def examples_per_case(pytestconfig: pytest.Config) -> int:
    return EXAMPLES[run_state(pytestconfig).options.level]


@pytest.fixture(scope="session")
def gtt_budget(pytestconfig: pytest.Config, device_facts: DeviceFacts) -> int:
    """Bytes a memory test may use: a level-dependent share of free device memory and
    available RAM (the smaller; on an APU both are the same DRAM), never all of it."""
    state = run_state(pytestconfig)
    level = state.options.level
    ram = state.profile.mem_available if known(state.profile.mem_available) else None
    free = [v for v in (device_facts.mem_free, ram) if v]
    if not free:
        return 64 * MIB
    budget = int(min(free) * BUDGET_FRACTION[level])  # type: ignore[type-var]
    if not device_facts.is_gpu:
        budget = min(budget, CPU_BUDGET_CAP[level])
    return max(budget, 4 * MIB)
