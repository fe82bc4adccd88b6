"""Tiny GPT-2 and Llama models (seeded, built from a config): the same logits and the
same greedy tokens on the device as on the CPU, and the attention back-ends agree."""

from __future__ import annotations

import pytest

from fixtures.verdict import failed, not_applicable, passed
from suites.hf.models import copy_to, greedy, prompt_ids, tiny_lm
from suites.torch.parity.faults import matching
from suites.torch.parity.tolerance import compare, tolerance_for

pytestmark = [pytest.mark.requires("torch", "transformers")]
FLASH_CHECK = "flash_attention_2 works on the device"
NEW_TOKENS = 16
HIDDEN = 64


def _logits(torch, model, ids):
    with torch.no_grad():
        return model(ids.to(next(model.parameters()).device)).logits.float().cpu()


@pytest.mark.level("quick")
@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_logits_and_greedy_tokens_match_cpu(kind, torch_module, torch_device, transformers_module, faults, check):
    """tiny LM logits and greedy tokens on the device match the CPU."""
    torch = torch_module
    cpu_model = tiny_lm(torch, kind)
    dev_model, hook = copy_to(torch, cpu_model, torch_device, "sdpa", matching(faults, "hf", "float32"))
    ids = prompt_ids(torch)
    tol = tolerance_for("float32", "matmul", HIDDEN)
    logits = compare(_logits(torch, dev_model, ids), _logits(torch, cpu_model, ids), tol)
    dev_tokens, tps = greedy(torch, dev_model, ids, NEW_TOKENS)
    cpu_tokens, _ = greedy(torch, cpu_model, ids, NEW_TOKENS)
    if hook:
        hook.remove()
    name = f"tiny {kind}: logits and {NEW_TOKENS} greedy tokens on {torch_device} match the CPU"
    expected = f"logits within float32 tolerance; identical token ids for {NEW_TOKENS} new tokens"
    m = {"tokens_per_s": round(tps, 2), "logits_max_abs": logits.max_abs, "logits_nmse": logits.nmse}
    if logits.ok and dev_tokens == cpu_tokens:
        return check(passed(name, expected, f"logits: max abs err {logits.max_abs:.3g}; tokens {cpu_tokens[:6]}...; "
                     f"{tps:.1f} tokens/s", measurements=m))
    found = [] if logits.ok else [f"logits: {logits.describe(tol, 'CPU float32')}"]
    if dev_tokens != cpu_tokens:
        step = next(i for i, (a, b) in enumerate(zip(dev_tokens, cpu_tokens)) if a != b)
        prefix = torch.cat([ids, torch.tensor([cpu_tokens[:step]], dtype=ids.dtype)], dim=1)
        cpu_last = _logits(torch, cpu_model, prefix)[0, -1]
        gap = float(cpu_last[cpu_tokens[step]] - cpu_last[dev_tokens[step]])
        found.append(f"first differing token at step {step}: device {dev_tokens[step]}, CPU {cpu_tokens[step]}; "
                     f"the CPU's logits prefer {cpu_tokens[step]} by {gap:.4g}")
    check(failed(name, expected, "; ".join(found), measurements=m,
                 why="a model that generates other tokens on the GPU gives other answers",
                 remedy="run suites/torch (parity) for the op that differs; compare attn_implementation eager"))


@pytest.mark.level("standard")
def test_eager_and_sdpa_agree_on_device(torch_module, torch_device, transformers_module, faults, check):
    """attention back-ends eager and sdpa agree on the device."""
    torch = torch_module
    base = tiny_lm(torch, "llama")
    eager, _ = copy_to(torch, base, torch_device, "eager", None)
    sdpa, _ = copy_to(torch, base, torch_device, "sdpa", matching(faults, "hf", "float32"))
    ids = prompt_ids(torch)
    tol = tolerance_for("float32", "attention", HIDDEN)
    result = compare(_logits(torch, sdpa, ids), _logits(torch, eager, ids), tol)
    name = f"attention back-ends eager and sdpa agree on {torch_device}"
    if result.ok:
        return check(passed(name, "same logits", f"max abs err {result.max_abs:.3g}", measurements={"max_abs": result.max_abs}))
    check(failed(name, "same logits", result.describe(tol, "eager on the device"),
                 remedy="use attn_implementation='eager' meanwhile"))


def flash_attention_prerequisite(device: str, available: bool):
    """Not applicable on the CPU; a failure (the known issue on RDNA) when flash-attn is unusable."""
    if device == "cpu":
        return not_applicable(FLASH_CHECK, "flash attention runs on GPUs only; the device under test is the CPU")
    if not available:
        return failed(FLASH_CHECK, "flash_attn importable with kernels for this GPU", "transformers reports "
                      "flash_attention_2 unavailable (flash-attn not installed, or no kernels for this GPU)",
                      remedy="attn_implementation='sdpa'; on RDNA build flash-attention with "
                             "FLASH_ATTENTION_TRITON_AMD_ENABLE=TRUE")
    return None


@pytest.mark.level("standard")
@pytest.mark.known_issue("flash-attn-rdna")
def test_flash_attention_2(torch_module, torch_device, transformers_module, check):
    """flash_attention_2 works on the device."""
    torch = torch_module
    name = FLASH_CHECK
    from transformers.utils import is_flash_attn_2_available

    blocked = flash_attention_prerequisite(torch_device, is_flash_attn_2_available())
    if blocked is not None:
        return check(blocked)
    base = tiny_lm(torch, "llama").to(torch.float16)
    flash, _ = copy_to(torch, base, torch_device, "flash_attention_2", None)
    sdpa, _ = copy_to(torch, base, torch_device, "sdpa", None)
    ids = prompt_ids(torch)
    tol = tolerance_for("float16", "attention", HIDDEN)
    result = compare(_logits(torch, flash, ids), _logits(torch, sdpa, ids), tol)
    if result.ok:
        return check(passed(name, "flash_attention_2 logits = sdpa logits (float16)", f"max abs err {result.max_abs:.3g}"))
    check(failed(name, "flash_attention_2 logits = sdpa logits (float16)", result.describe(tol, "sdpa"),
                 remedy="use attn_implementation='sdpa'"))
