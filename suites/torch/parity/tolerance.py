"""Tolerances and the comparison that every parity case applies.

Per dtype we use PyTorch's own `torch.testing.assert_close` defaults
(https://pytorch.org/docs/stable/testing.html#torch.testing.assert_close):
float16 rtol 1e-3 / atol 1e-5, bfloat16 1.6e-2 / 1e-5, float32 1.3e-6 / 1e-5,
float64 1e-7 / 1e-7; integer dtypes must match exactly.

They are widened only for outputs that are sums of K terms, where the math says so:
rounding each partial sum adds at most u·|partial sum|, so the error of a K-term sum is
bounded by K·u·Σ|terms| and typically grows like √K·u·Σ|terms| (random-walk rounding).
An element passes when

    |device − reference| ≤ atol + rtol·|reference| + rtol·√K·magnitude

where `magnitude` is Σ|terms| for that element (computed exactly in float64 by the op's
absolute-value form, e.g. |A|@|B| for matmul), or the largest |reference| when the op
has no such form.  K = 1 gives back assert_close exactly.

Gradients are judged the same way with two widenings the backward formulas call for: a
backward pass rounds several times in the dtype (sigmoid's is g·y·(1−y): y, 1−y and two
products), so rtol is multiplied by BACKWARD_ROUNDINGS; and 1−y and similar differences
cancel, so the error of a small gradient element is bounded by the size of the largest
one, not its own: the magnitude term is always present, with the largest |gradient|.

The whole tensor must also pass a normalised mean squared error test, as llama.cpp's
test-backend-ops does (ggml tests/test-backend-ops.cpp `max_nmse_err`: 1e-7 by default,
5e-4 for matrix multiplication, attention and convolution).  Those limits are for float32
outputs; a float16/bfloat16 output cannot beat its own rounding, so the limit is never
below rtol² of the dtype.  A case fails when either criterion fails; a reference whose
mean square is below atol² (a gradient that is exactly zero) is judged elementwise only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ASSERT_CLOSE_DEFAULTS: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}
INTEGER_DTYPES = ("int32", "int64")
NMSE_DEFAULT = 1e-7
NMSE_LOOSE = 5e-4
LOOSE_KINDS = ("matmul", "attention", "conv")
BACKWARD_ROUNDINGS = 4


@dataclass(frozen=True)
class Tolerance:
    """What one output of one case must meet."""

    dtype: str
    rtol: float
    atol: float
    k: int
    nmse_limit: float
    scale_term: bool = False  # add rtol·√K·max|reference| even when K = 1 (gradients)

    @property
    def exact(self) -> bool:
        return self.rtol == 0 and self.atol == 0

    def describe(self) -> str:
        if self.exact:
            return "exact (integer dtype)"
        widen = f", widened by sqrt(K) for a reduction of K={self.k}" if self.k > 1 else ""
        scale = ", plus rtol x the largest |gradient|" if self.scale_term and self.k == 1 else ""
        return f"atol {self.atol:g}, rtol {self.rtol:g}{widen}{scale}; NMSE limit {self.nmse_limit:g}"


def tolerance_for(dtype: str, kind: str, k: int = 1) -> Tolerance:
    """The tolerance of an output in `dtype` from an op of `kind` reducing over K terms."""
    if dtype in INTEGER_DTYPES:
        return Tolerance(dtype, 0.0, 0.0, 1, 0.0)
    if dtype not in ASSERT_CLOSE_DEFAULTS:
        raise ValueError(f"no tolerance for dtype {dtype!r}")
    rtol, atol = ASSERT_CLOSE_DEFAULTS[dtype]
    limit = NMSE_LOOSE if kind in LOOSE_KINDS else NMSE_DEFAULT
    return Tolerance(dtype, rtol, atol, max(1, int(k)), max(limit, rtol * rtol))


def backward_tolerance_for(dtype: str, kind: str, k: int = 1) -> Tolerance:
    """The tolerance of a gradient (see the module docstring for why it is wider)."""
    base = tolerance_for(dtype, kind, k)
    if base.exact:
        return base
    rtol = base.rtol * BACKWARD_ROUNDINGS
    return Tolerance(dtype, rtol, base.atol, base.k, max(base.nmse_limit, rtol * rtol), scale_term=True)


@dataclass(frozen=True)
class Comparison:
    """The result of comparing one device output with its float64 reference."""

    ok: bool
    within_tolerance: bool
    nmse: float
    max_abs: float
    max_rel: float
    worst_index: tuple[int, ...] | None
    worst_actual: float | None
    worst_expected: float | None
    worst_bound: float | None
    special_mismatch: str | None

    def describe(self, tol: Tolerance, reference: str = "CPU float64") -> str:
        if self.special_mismatch:
            return f"non-finite values differ: {self.special_mismatch}"
        parts = []
        if self.worst_index is not None:
            parts.append(f"worst element {list(self.worst_index)}: device {self.worst_actual:.9g} vs {reference} "
                         f"{self.worst_expected:.9g} (allowed +-{self.worst_bound:.3g})")
        parts.append(f"max abs err {self.max_abs:.3g}, max rel err {self.max_rel:.3g}")
        parts.append(f"NMSE {self.nmse:.3g} (limit {tol.nmse_limit:g})")
        parts.append(f"tolerance: {tol.describe()}")
        return "; ".join(parts)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Flat index to coordinates (row-major); torch.unravel_index would import torch.fx (about 1 s)."""
    index = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size) if size else (flat, 0)
        index.append(rest)
    return tuple(reversed(index))


def compare(actual: Any, expected: Any, tol: Tolerance, magnitude: Any = None) -> Comparison:
    """Compare a device output (any dtype/device) with a float64 CPU reference.

    NaN must sit where the reference has NaN and infinities must match in sign; the
    finite rest is judged by the element bound and the NMSE above.
    """
    import torch

    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if a.shape != e.shape:
        return Comparison(False, False, math.inf, math.inf, math.inf, None, None, None, None,
                          f"shape {tuple(a.shape)} on the device, {tuple(e.shape)} on the CPU")
    if a.numel() == 0:
        return Comparison(True, True, 0.0, 0.0, 0.0, None, None, None, None, None)
    nan_a, nan_e = torch.isnan(a), torch.isnan(e)
    inf_a, inf_e = torch.isinf(a), torch.isinf(e)
    special = None
    if not torch.equal(nan_a, nan_e):
        idx = torch.nonzero(nan_a != nan_e)[0].tolist()
        special = f"at {idx} device {a[tuple(idx)].item()} vs CPU {e[tuple(idx)].item()}"
    elif not torch.equal(inf_a, inf_e) or not torch.equal(a[inf_a], e[inf_e]):
        idx = torch.nonzero((inf_a != inf_e) | (inf_a & (a != e)))[0].tolist()
        special = f"at {idx} device {a[tuple(idx)].item()} vs CPU {e[tuple(idx)].item()}"
    finite = torch.isfinite(e) & torch.isfinite(a)
    diff = torch.where(finite, (a - e).abs(), torch.zeros_like(a))
    ref = torch.where(finite, e.abs(), torch.zeros_like(e))
    if tol.k > 1 or tol.scale_term:
        scale = magnitude.detach().to("cpu", torch.float64).abs() if magnitude is not None else ref.max()
        bound = tol.atol + tol.rtol * ref + tol.rtol * math.sqrt(tol.k) * scale
    else:
        bound = tol.atol + tol.rtol * ref
    bound = torch.broadcast_to(bound, diff.shape)
    excess = diff - bound
    worst = int(torch.argmax(excess).item()) if excess.numel() else 0
    worst_index = _unravel(worst, tuple(excess.shape))
    within = bool((excess <= 0).all().item())
    denom = float((e[finite] ** 2).sum().item())
    err = float(((a - e)[finite] ** 2).sum().item())
    nmse = err / denom if denom > 0 else (0.0 if err == 0 else math.inf)
    # A reference at the absolute-tolerance floor (e.g. a gradient that is exactly zero)
    # has no scale to normalise by: the element bound alone judges it.
    noise_floor = denom <= int(finite.sum().item()) * tol.atol ** 2
    rel = diff / ref.clamp_min(torch.finfo(torch.float64).tiny)
    rel = torch.where(ref > 0, rel, torch.zeros_like(rel))
    nmse_ok = tol.exact or noise_floor or nmse <= tol.nmse_limit
    if tol.exact:
        within = within and err == 0
    return Comparison(
        ok=special is None and within and nmse_ok,
        within_tolerance=within,
        nmse=nmse,
        max_abs=float(diff.max().item()),
        max_rel=float(rel.max().item()),
        worst_index=worst_index,
        worst_actual=float(a[worst_index].item()),
        worst_expected=float(e[worst_index].item()),
        worst_bound=float(bound[worst_index].item()),
        special_mismatch=special,
    )
