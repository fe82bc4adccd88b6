"""Does a real Transformers model give the CPU's sentence embeddings on the device?"""

from __future__ import annotations

import pytest

from fixtures.fixes import user_env_step
from fixtures.verdict import failed, passed
from suites.hf.models import embed_tolerance, embeddings
from suites.torch.parity.faults import matching

pytestmark = [pytest.mark.requires("torch", "transformers"), pytest.mark.level("quick")]


@pytest.mark.cpu_side("offline access touches no GPU")
def test_hub_is_offline(hf_env, pytestconfig, check):
    """Transformers cannot reach the hub."""
    import huggingface_hub.constants as constants

    name = "Transformers cannot reach the hub"
    online = pytestconfig.getoption("hf_online")
    found = ", ".join(f"{k}={v}" for k, v in hf_env.items()) + f"; huggingface_hub offline={constants.HF_HUB_OFFLINE}"
    if online:
        return check(passed(name, "--hf-online: the hub may be used", found))
    if not constants.HF_HUB_OFFLINE:
        check(failed(name, "HF_HUB_OFFLINE in effect (no downloads)", found,
                     why="huggingface_hub was imported before the suite set HF_HUB_OFFLINE, so it may download",
                     remedy="export HF_HUB_OFFLINE=1 before running pytest",
                     fix=(user_env_step("HF_HUB_OFFLINE", "1",
                                        source="https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables"),)))
    return check(passed(name, "HF_HUB_OFFLINE in effect (no downloads)", found))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sentence_embeddings_match_cpu(dtype, torch_module, torch_device, hf_model, reference_embeddings, faults,
                                       check):
    """sentence embeddings on the device match the CPU."""
    torch = torch_module
    fault = matching(faults, "hf", dtype)
    got, layers = embeddings(torch, hf_model.path, torch_device, dtype, fault)
    diff = (got - reference_embeddings).abs()
    max_abs = float(diff.max().item())
    cosine = torch.nn.functional.cosine_similarity(got, reference_embeddings, dim=-1)
    worst = int(torch.argmin(cosine).item())
    tol = embed_tolerance(dtype, layers)
    name = f"{hf_model.path.name} embeddings in {dtype} on {torch_device} match the CPU"
    expected = f"max abs error <= {tol:.2g} and cosine >= {1 - tol:.6f} (2 x {layers} layers x rounding of {dtype})"
    found = (f"max abs error {max_abs:.3g}; lowest cosine {float(cosine[worst]):.7f} (sentence {worst}); "
             f"model: {hf_model.how}")
    m = {"max_abs": max_abs, "min_cosine": float(cosine.min().item()), "tolerance": tol}
    if max_abs <= tol and float(cosine.min().item()) >= 1 - tol:
        return check(passed(name, expected, found, measurements=m))
    check(failed(name, expected, found, measurements=m,
                 why="embeddings that drift on the GPU make search and clustering silently worse",
                 remedy="run suites/torch (parity) to find the op that differs"))
