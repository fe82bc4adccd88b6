"""Will a test of this machine's software run on its GPU?  Decided before anything heavy.

Two callers need the same answer: the suites' fixtures (suites/conftest.py), which skip
with the reason, and the isolation plugin, which forks a child only for a test that will
really drive the GPU in-process.  Both read it here, from cheap evidence: the run's
options, whether a recording is replayed, torch's own version.py (no `import torch`) and
ONNX Runtime's provider list (importing onnxruntime creates no device context).
"""

from __future__ import annotations

import functools

import pytest

from fixtures.builds import TorchBuild, installed_torch_build
from fixtures.knowledge.tables import platform_fact
from plugins.state import run_state


def replay_skip_reason(config: pytest.Config) -> str | None:
    """Why the suites that run software skip on this run (a replayed recording without
    --live or --torch-device), or None."""
    state = run_state(config)
    if state.profile.recorded and state.options.torch_device == "auto" and not config.getoption("live"):
        return ("replaying a recorded machine (--sysroot): this suite tests this machine's software and GPU, "
                "not the recording's (add --live, or --torch-device=cpu, to run it here anyway)")
    return None


def device_skip_reason(config: pytest.Config) -> str | None:
    """Why a test of the device under test skips before torch is even imported: a replay,
    or a CPU-only torch build with --torch-device auto (read from torch's own version.py)."""
    reason = replay_skip_reason(config)
    if reason or run_state(config).options.torch_device != "auto":
        return reason
    build = installed_torch_build()
    if build is None:
        return "torch is not installed: python3 -m fixtures.provision installs the build for this machine"
    return build.cpu_only_reason if isinstance(build, TorchBuild) and not build.gpu else None


@functools.lru_cache(maxsize=1)
def ort_gpu_providers() -> tuple[str, ...]:
    """The GPU execution providers the installed ONNX Runtime offers ([] without one, or
    without onnxruntime); cached, like the installed packages it reads."""
    try:
        import onnxruntime
        available = onnxruntime.get_available_providers()
    except Exception:  # noqa: BLE001 - a broken install raises anything; its fixture reports it
        return ()
    return tuple(p for p in available if p in platform_fact("onnxruntime", "gpu_providers"))
