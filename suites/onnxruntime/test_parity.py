"""Every available provider agrees with the CPU provider, and the CPU provider with torch.

A provider that is listed but cannot create a session fails with its error: it looks
installed and is not usable.
"""

from __future__ import annotations

import pytest

from plugins.live import ort_gpu_providers
from fixtures.verdict import failed, not_applicable, passed
from suites.onnxruntime.models import exported_mlp, helper_graph, run
from suites.torch.parity.faults import matching, perturb
from suites.torch.parity.tolerance import compare, tolerance_for

pytestmark = [pytest.mark.requires("onnxruntime", "torch"), pytest.mark.level("quick")]
CASES = [("mlp", "float32"), ("helper", "float32"), ("helper", "float16")]


def make_case(torch, kind, dtype):
    return exported_mlp(torch) if kind == "mlp" else helper_graph(torch, dtype)


def _faulty(torch, faults, dtype, out):
    fault = matching(faults, "onnxruntime", dtype)
    return perturb(fault, torch.from_numpy(out.astype("float64"))) if fault else torch.from_numpy(out.astype("float64"))


# Standard, not quick: it proves the install on the CPU only, and the quick level is the GPU
# verdict for about the price of importing torch (importing onnx alone costs about 1 s).
@pytest.mark.level("standard")
@pytest.mark.cpu_side("the CPU provider against torch on the CPU")
@pytest.mark.parametrize("kind, dtype", CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_cpu_provider_matches_torch(kind, dtype, ort, onnx_module, torch_cpu_module, faults, check):
    """ONNX Runtime's CPU provider matches torch (float64)."""
    torch = torch_cpu_module
    case = make_case(torch, kind, dtype)
    out = _faulty(torch, faults, dtype, run(ort, case, "CPUExecutionProvider"))
    tol = tolerance_for(dtype, "matmul", case.k)
    result = compare(out, case.reference, tol)
    name = f"{case.name}: ONNX Runtime's CPU provider matches torch (float64)"
    if result.ok:
        return check(passed(name, "outputs within tolerance", f"max abs err {result.max_abs:.3g}",
                            measurements={"max_abs": result.max_abs, "nmse": result.nmse}))
    check(failed(name, "outputs within tolerance", result.describe(tol, "torch float64"),
                 remedy="compare onnxruntime versions; the exported graph may use a different op set"))


@pytest.mark.parametrize("kind, dtype", CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_gpu_providers_match_cpu_provider(kind, dtype, ort, request, faults, check):
    """ONNX Runtime GPU providers match the CPU provider."""
    gpu = ort_gpu_providers()
    name = f"ONNX Runtime GPU providers match the CPU provider ({kind}, {dtype})"
    if not gpu:
        return check(not_applicable(name, f"no GPU execution provider in onnxruntime {ort.__version__}: "
                                          f"{', '.join(ort.get_available_providers())}"))
    request.getfixturevalue("onnx_module")
    torch = request.getfixturevalue("torch_cpu_module")  # only for the model export: imported once needed
    case = make_case(torch, kind, dtype)
    cpu = torch.from_numpy(run(ort, case, "CPUExecutionProvider").astype("float64"))
    tol = tolerance_for(dtype, "matmul", case.k)
    problems, fine = [], []
    for provider in gpu:
        try:
            out = _faulty(torch, faults, dtype, run(ort, case, provider))
        except Exception as exc:  # noqa: BLE001 - providers raise their own error types
            problems.append(f"{provider} is listed but failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        result = compare(out, cpu, tol)
        (fine if result.ok else problems).append(
            f"{provider}: " + (f"max abs err {result.max_abs:.3g}" if result.ok else result.describe(tol, "CPU provider")))
    if not problems:
        return check(passed(name, "every GPU provider within tolerance of the CPU provider", "; ".join(fine)))
    check(failed(name, "every GPU provider within tolerance of the CPU provider", "; ".join(problems + fine),
                 remedy="a provider that fails at session creation usually needs the ROCm/MIGraphX libraries "
                        "of the version it was built for"))
