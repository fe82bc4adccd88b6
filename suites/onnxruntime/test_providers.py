"""Which ONNX Runtime execution providers exist here, against what this GPU and ROCm need."""

from __future__ import annotations

import pytest

from fixtures.knowledge.tables import platform_fact
from fixtures.verdict import FixStep, failed, not_applicable, passed
from fixtures.versions import parse_version

pytestmark = [pytest.mark.requires("onnxruntime"), pytest.mark.level("quick")]


def expected_amd_providers(ort_version: str) -> tuple[str, ...]:
    """MIGraphX from ONNX Runtime 1.23 on; before it ROCm or MIGraphX (platform.toml [onnxruntime])."""
    removed = parse_version(str(platform_fact("onnxruntime", "rocm_ep_removed_in")))
    version = parse_version(ort_version)
    if version is not None and removed is not None and version >= removed:
        return ("MIGraphXExecutionProvider",)
    return tuple(platform_fact("onnxruntime", "amd_providers"))


def test_amd_execution_provider_present(ort, target, system, check):
    """an AMD GPU execution provider is installed."""
    name = "an AMD GPU execution provider is installed"
    providers = ort.get_available_providers()
    found = f"onnxruntime {ort.__version__}: {', '.join(providers)}"
    if not target.active:
        return check(not_applicable(name, f"no AMD target ({target.how}); {found}"))
    wanted = expected_amd_providers(ort.__version__)
    expected = " or ".join(wanted)
    if any(p in providers for p in wanted):
        return check(passed(name, expected, found))
    rocm = system.rocm.version_text
    check(failed(name, expected, found, why=str(platform_fact("onnxruntime", "summary")),
                 remedy=f"install the MIGraphX build of ONNX Runtime for ROCm {rocm} (e.g. onnxruntime-migraphx) "
                        "instead of the CPU-only 'onnxruntime' wheel",
                 link="https://github.com/microsoft/onnxruntime/pull/25181",
                 fix=(FixStep("packages", ("python3 -m pip uninstall -y onnxruntime",
                                           "python3 -m pip install onnxruntime-migraphx"), root=False,
                              note=f"with the Python the suite uses; the MIGraphX build must match ROCm {rocm} "
                                   "(AMD's ROCm docs list the wheel for each release)",
                              source="https://github.com/microsoft/onnxruntime/pull/25181"),)))
