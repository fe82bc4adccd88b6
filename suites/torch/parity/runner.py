"""Run one parity example: the op on the device under test in the dtype under test,
against the same (dtype-rounded) inputs in float64 on the CPU; forward, then backward."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suites.torch.parity.faults import Fault, run_faulty
from suites.torch.parity.inputs import EDGE_NONFINITE, Example
from suites.torch.parity.ops import Op
from suites.torch.parity.tolerance import Comparison, Tolerance, backward_tolerance_for, compare, tolerance_for

INTEGER = ("int32", "int64")


class NotRepresentable(Exception):
    """The exact result does not fit the dtype (or the op's domain): not a fair example."""


@dataclass
class Outcome:
    """Every comparison one example made, and the verdict."""

    op: str
    dtype: str
    example: Example
    checks: list[tuple[str, Tolerance, Comparison]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for _, _, c in self.checks)

    def message(self) -> str:
        bad = [(label, tol, c) for label, tol, c in self.checks if not c.ok]
        lines = [f"{self.op} {self.dtype} on the device differs from the CPU (float64): {self.example.describe()}"]
        lines += [f"  {label}: {c.describe(tol)}" for label, tol, c in bad]
        return "\n".join(lines)

    @property
    def worst_nmse(self) -> float:
        return max((c.nmse for _, _, c in self.checks), default=0.0)


def make_inputs(op: Op, dtype: str, example: Example) -> tuple[list[Any], dict[str, Any]]:
    """Master inputs on the CPU: float64 values already rounded to `dtype` (or integers)."""
    import torch

    gen = torch.Generator().manual_seed(example.seed)
    tensors = op.make(gen, example.sizes)
    kwargs = {key: example.sizes[size] for key, size in op.extra.items()}
    out = []
    for i, t in enumerate(tensors):
        if not t.is_floating_point():
            out.append(t)
            continue
        if i not in op.unscaled:
            t = t * example.scale
        if dtype in INTEGER:
            t = (t * 10).round()
            out.append(t.to(getattr(torch, dtype)))
            continue
        out.append(t.to(getattr(torch, dtype)).to(torch.float64))
    if example.edge == EDGE_NONFINITE:
        first = next(i for i, t in enumerate(out) if t.is_floating_point())
        flat = out[first].clone().view(-1)
        specials = [float("nan"), float("inf"), float("-inf")]
        for pos, value in zip((0, flat.numel() - 1, flat.numel() // 2), specials[: flat.numel()]):
            flat[pos] = value
        out[first] = flat.view(out[first].shape)
    return out, kwargs


def _to_device(t: Any, device: str, dtype: str, noncontiguous: bool) -> Any:
    import torch

    if t.is_floating_point():
        t = t.to(getattr(torch, dtype))
    t = t.to(device)
    if noncontiguous and t.is_floating_point() and t.numel() > 1:
        if t.dim() >= 2:
            return t.transpose(-1, -2).contiguous().transpose(-1, -2)
        wide = torch.empty(t.numel() * 2, dtype=t.dtype, device=device)[::2]
        return wide.copy_(t)
    return t


def _check_representable(ref: Any, dtype: str, edge: str | None) -> None:
    import torch

    if edge == EDGE_NONFINITE:
        return
    if dtype in INTEGER:
        return
    if not torch.isfinite(ref).all():
        raise NotRepresentable("the float64 reference is not finite")
    if ref.numel() and ref.abs().max().item() > torch.finfo(getattr(torch, dtype)).max / 4:
        raise NotRepresentable(f"the result does not fit {dtype}")


def run_example(op: Op, dtype: str, example: Example, device: str, fault: Fault | None = None) -> Outcome:
    """Compare forward (and backward where the op has one) for one example."""
    import torch

    master, kwargs = make_inputs(op, dtype, example)
    ref_inputs = [t.to(torch.int64) if dtype in INTEGER and t.dtype != torch.int64 else t for t in master]
    want_grad = (op.grad and dtype not in INTEGER and example.edge is None
                 and not (op.unit_grad and example.scale > 1))
    floats = [i for i, t in enumerate(master) if t.is_floating_point()]
    ref_leaves = [t.clone().requires_grad_(want_grad) if i in floats else t for i, t in enumerate(ref_inputs)]
    ref = op.fn(*ref_leaves, **kwargs)
    _check_representable(ref.detach(), dtype, example.edge)
    dev_leaves = [_to_device(t, device, dtype, example.noncontiguous) for t in master]
    if want_grad:
        dev_leaves = [t.detach().requires_grad_() if i in floats else t for i, t in enumerate(dev_leaves)]
    out = run_faulty(fault, op.fn, dev_leaves, kwargs) if fault else op.fn(*dev_leaves, **kwargs)
    outcome = Outcome(op.name, dtype, example)
    kind_dtype = dtype if dtype in INTEGER or not op.exact else "int32"
    magnitude = None
    if op.magnitude is not None and example.edge is None:
        with torch.no_grad():
            magnitude = op.magnitude(*[t.abs() if t.is_floating_point() else t for t in ref_inputs], **kwargs)
    tol = tolerance_for(kind_dtype, op.kind, op.k(example.sizes))
    outcome.checks.append(("forward", tol, compare(out, ref, tol, magnitude)))
    if want_grad and ref.numel():
        gen = torch.Generator().manual_seed(example.seed + 1)
        g64 = torch.randn(ref.shape, generator=gen, dtype=torch.float64).to(getattr(torch, dtype)).to(torch.float64)
        (ref * g64).sum().backward()
        (out * g64.to(device=device, dtype=out.dtype)).sum().backward()
        tol_b = backward_tolerance_for(dtype, op.kind, op.k_backward(example.sizes))
        for i in floats:
            _check_representable(ref_leaves[i].grad, dtype, None)
        for i in floats:
            label = f"gradient of input {i}"
            outcome.checks.append((label, tol_b, compare(dev_leaves[i].grad, ref_leaves[i].grad, tol_b)))
    return outcome
