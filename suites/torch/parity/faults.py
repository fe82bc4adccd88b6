"""Injected faults: `--inject-fault OP:DTYPE:FAULT` perturbs what the device returns,
to prove that the parity tests catch it (the way RVS's GST module injects errors).

FAULT is one of
  rel=R      every output element times (1 + R): a systematic relative error
  flip       the sign of one output element flipped
  lowp=DT    the op computed in dtype DT and cast back: a wrong-precision code path
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("rel", "flip", "lowp")
# Besides the parity ops: the training test's logits, a layer of the device's HF model,
# and the output of the ONNX Runtime provider under test.
EXTRA_TARGETS = ("training", "hf", "onnxruntime")


@dataclass(frozen=True)
class Fault:
    op: str
    dtype: str
    kind: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.op}:{self.dtype}:{self.kind}{'=' + self.value if self.value else ''}"


def parse_fault(text: str) -> Fault:
    """Parse OP:DTYPE:FAULT; ValueError says the accepted forms."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r}: expected OP:DTYPE:FAULT, e.g. matmul:float32:rel=1e-2 or softmax:float32:flip")
    op, dtype, fault = parts
    kind, _, value = fault.partition("=")
    if kind not in KINDS:
        raise ValueError(f"{text!r}: fault must be rel=R, flip or lowp=DTYPE")
    if kind == "rel":
        try:
            float(value)
        except ValueError:
            raise ValueError(f"{text!r}: rel needs a number, e.g. rel=1e-2") from None
    if kind == "lowp" and value not in ("float16", "bfloat16", "float32"):
        raise ValueError(f"{text!r}: lowp needs float16, bfloat16 or float32")
    return Fault(op, dtype, kind, value)


def check_fault(text: str) -> Fault:
    """Parse and check that OP and DTYPE name a parity case (or '*')."""
    from suites.torch.parity.ops import OPS_BY_NAME

    fault = parse_fault(text)
    if fault.op not in ("*", *EXTRA_TARGETS) and fault.op not in OPS_BY_NAME:
        raise ValueError(f"{text!r}: unknown op {fault.op!r}; known: {', '.join([*OPS_BY_NAME, *EXTRA_TARGETS])}")
    dtypes = {d for op in OPS_BY_NAME.values() for d in op.dtypes}
    if fault.dtype != "*" and fault.dtype not in dtypes:
        raise ValueError(f"{text!r}: unknown dtype {fault.dtype!r}; known: {', '.join(sorted(dtypes))}")
    return fault


def matching(faults: tuple[Fault, ...], op: str, dtype: str) -> Fault | None:
    for fault in faults:
        if fault.op in (op, "*") and fault.dtype in (dtype, "*"):
            return fault
    return None


def perturb(fault: Fault, out: Any) -> Any:
    """Apply a rel/flip fault to an output, inside the autograd graph."""
    import torch

    if fault.kind == "rel":
        return out * (1.0 + float(fault.value))
    if fault.kind == "flip" and out.numel():
        sign = torch.ones_like(out)
        sign.view(-1)[out.numel() // 2] = -1
        return out * sign
    return out


def run_faulty(fault: Fault, fn: Any, inputs: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run `fn` with the fault applied (lowp recomputes in the wrong precision)."""
    import torch

    if fault.kind == "lowp":
        low = getattr(torch, fault.value)
        cast = [t.to(low) if t.is_floating_point() else t for t in inputs]
        out = fn(*cast, **kwargs)
        return out.to(next(t.dtype for t in inputs if t.is_floating_point()))
    return perturb(fault, fn(*inputs, **kwargs))
