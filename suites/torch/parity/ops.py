"""The op table: what `suites/torch/test_parity.py` compares, one row per op.

Each row names the sizes it draws (hypothesis picks them within the ranges, odd sizes
included), makes its inputs from a seeded generator in float64, computes the op, and
says how many terms each output sums (K) and, where there is one, the op's absolute
value form that gives Σ|terms| per output element (see tolerance.py).  torch is
imported inside the functions, so importing this table costs nothing at collection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

FLOATS = ("float32", "float16", "bfloat16")
Sizes = dict[str, int]


def _t():
    import torch

    return torch


def _F():
    import torch.nn.functional as F

    return F


def randn(gen: Any, *shape: int) -> Any:
    return _t().randn(*shape, generator=gen, dtype=_t().float64)


def randint(gen: Any, high: int, *shape: int) -> Any:
    return _t().randint(0, max(1, high), shape, generator=gen, dtype=_t().int64)


@dataclass(frozen=True)
class Op:
    """One operation under test and how to judge it."""

    name: str
    kind: str  # elementwise, reduction, matmul, conv, attention, norm, index, select, fft
    dims: dict[str, tuple[int, int]]
    make: Callable[[Any, Sizes], list[Any]]
    fn: Callable[..., Any]
    k: Callable[[Sizes], int] = lambda s: 1
    magnitude: Callable[..., Any] | None = None
    grad: bool = True
    dtypes: tuple[str, ...] = FLOATS
    exact: bool = False  # a selection of input values (sort, max): must match exactly
    edge: bool = False  # NaN/inf propagation edge case applies
    empty_dim: str | None = None  # a size that may be 0 for the empty-tensor edge case
    unscaled: tuple[int, ...] = ()  # inputs that keep their values when the case scales magnitudes
    unit_grad: bool = False  # gradients compared at magnitudes <= 1 only (saturation, cancellation)
    note: str = ""
    min_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def k_backward(self, sizes: Sizes) -> int:
        """Backward passes reduce over the other dimensions: the largest size bounds them."""
        if self.kind == "elementwise":
            return 1
        return max([self.k(sizes), *sizes.values()])


SDPA_SCALE = ("magnitudes scale v only: scaled q and k make logits so large that softmax saturates and its "
              "gradient is decided by rounding, in any dtype; gradients at unit magnitude, since with a large v "
              "the gradients of q and k are differences of large terms")
SMALL_GROUPS = ("at least 4 values per normalised group: 1 to 3 values normalise to (nearly) +-1 exactly, so their "
                "gradient is a cancellation decided by rounding")
GELU_INF = ("no NaN/inf edge case: torch's CPU kernels give gelu(+inf) = nan in float32 and below, "
            "inf in float64, so the CPU cannot referee it")


def _unary(name: str, fn: Callable[[Any], Any], make: Callable[[Any, Sizes], list[Any]] | None = None,
           **kw: Any) -> Op:
    kw.setdefault("edge", True)
    return Op(name, "elementwise", {"m": (1, 17), "n": (1, 33)},
              make or (lambda g, s: [randn(g, s["m"], s["n"])]), fn, empty_dim="m", **kw)


def _mm_mag(a: Any, b: Any) -> Any:
    return a @ b


OPS: tuple[Op, ...] = (
    Op("matmul", "matmul", {"m": (1, 33), "k": (1, 65), "n": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["k"]), randn(g, s["k"], s["n"])],
       lambda a, b: a @ b, k=lambda s: s["k"], magnitude=_mm_mag, edge=True, empty_dim="k"),
    Op("bmm", "matmul", {"b": (1, 4), "m": (1, 17), "k": (1, 33), "n": (1, 17)},
       lambda g, s: [randn(g, s["b"], s["m"], s["k"]), randn(g, s["b"], s["k"], s["n"])],
       lambda a, b: _t().bmm(a, b), k=lambda s: s["k"], magnitude=lambda a, b: _t().bmm(a, b)),
    Op("addmm", "matmul", {"m": (1, 33), "k": (1, 33), "n": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["n"]), randn(g, s["m"], s["k"]), randn(g, s["k"], s["n"])],
       lambda c, a, b: _t().addmm(c, a, b), k=lambda s: s["k"] + 1, magnitude=lambda c, a, b: c + a @ b),
    Op("linear", "matmul", {"m": (1, 33), "k": (1, 33), "n": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["k"]), randn(g, s["n"], s["k"]), randn(g, s["n"])],
       lambda x, w, b: _F().linear(x, w, b), k=lambda s: s["k"] + 1, magnitude=lambda x, w, b: x @ w.T + b),
    Op("conv1d", "conv", {"b": (1, 2), "cin": (1, 4), "cout": (1, 4), "kw": (1, 5), "extra": (0, 20)},
       lambda g, s: [randn(g, s["b"], s["cin"], s["kw"] + s["extra"]), randn(g, s["cout"], s["cin"], s["kw"])],
       lambda x, w: _F().conv1d(x, w), k=lambda s: s["cin"] * s["kw"], magnitude=lambda x, w: _F().conv1d(x, w)),
    Op("conv2d", "conv", {"b": (1, 2), "cin": (1, 3), "cout": (1, 3), "kh": (1, 3), "kw": (1, 3), "extra": (0, 9)},
       lambda g, s: [randn(g, s["b"], s["cin"], s["kh"] + s["extra"], s["kw"] + s["extra"]),
                     randn(g, s["cout"], s["cin"], s["kh"], s["kw"])],
       lambda x, w: _F().conv2d(x, w), k=lambda s: s["cin"] * s["kh"] * s["kw"],
       magnitude=lambda x, w: _F().conv2d(x, w)),
    Op("softmax", "norm", {"m": (1, 17), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.softmax(-1), k=lambda s: s["n"], edge=True, unit_grad=True),
    Op("log_softmax", "norm", {"m": (1, 17), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.log_softmax(-1), k=lambda s: s["n"], unit_grad=True),
    Op("layer_norm", "norm", {"m": (1, 17), "n": (4, 65)},
       lambda g, s: [randn(g, s["m"], s["n"]), randn(g, s["n"]), randn(g, s["n"])],
       lambda x, w, b: _F().layer_norm(x, (x.shape[-1],), w, b), k=lambda s: s["n"], note=SMALL_GROUPS),
    Op("rms_norm", "norm", {"m": (1, 17), "n": (4, 65)},
       lambda g, s: [randn(g, s["m"], s["n"]), randn(g, s["n"])],
       lambda x, w: _F().rms_norm(x, (x.shape[-1],), w, eps=1e-6), k=lambda s: s["n"], min_version="2.4",
       note="explicit eps: the default is the dtype's machine epsilon, which would make each dtype a different "
            "op; " + SMALL_GROUPS),
    Op("group_norm", "norm", {"b": (1, 2), "groups": (1, 4), "per_group": (1, 4), "l": (4, 17)},
       lambda g, s: [randn(g, s["b"], s["groups"] * s["per_group"], s["l"])],
       lambda x, groups=1: _F().group_norm(x, groups), k=lambda s: s["per_group"] * s["l"],
       extra={"groups": "groups"}, note=SMALL_GROUPS),
    _unary("gelu", lambda x: _F().gelu(x), edge=False, unit_grad=True, note=GELU_INF),
    _unary("gelu_tanh", lambda x: _F().gelu(x, approximate="tanh"), edge=False, unit_grad=True, note=GELU_INF),
    _unary("silu", lambda x: _F().silu(x), unit_grad=True),
    _unary("relu", lambda x: _F().relu(x)),
    _unary("sigmoid", lambda x: x.sigmoid(), unit_grad=True),
    _unary("tanh", lambda x: x.tanh(), unit_grad=True),
    _unary("exp", lambda x: x.exp()),
    _unary("log", lambda x: x.log(), make=lambda g, s: [randn(g, s["m"], s["n"]).abs() + 1e-3]),
    Op("pow", "elementwise", {"m": (1, 17), "n": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["n"]).abs() + 0.1, randn(g, s["m"], s["n"]).clamp(-2, 3)],
       lambda a, b: a.pow(b), empty_dim="m", unscaled=(0, 1),
       note="bases in [0.1, 4], exponents in [-2, 3]: outside that a^b leaves every dtype's range"),
    Op("sdpa", "attention", {"b": (1, 2), "h": (1, 3), "s": (1, 17), "d": (1, 16)},
       lambda g, s: [randn(g, s["b"], s["h"], s["s"], s["d"]) for _ in range(3)],
       lambda q, k, v: _F().scaled_dot_product_attention(q, k, v), k=lambda s: max(s["s"], s["d"]),
       unscaled=(0, 1), unit_grad=True, note=SDPA_SCALE),
    Op("sdpa_causal", "attention", {"b": (1, 2), "h": (1, 3), "s": (1, 17), "d": (1, 16)},
       lambda g, s: [randn(g, s["b"], s["h"], s["s"], s["d"]) for _ in range(3)],
       lambda q, k, v: _F().scaled_dot_product_attention(q, k, v, is_causal=True), k=lambda s: max(s["s"], s["d"]),
       unscaled=(0, 1), unit_grad=True, note=SDPA_SCALE),
    Op("sum", "reduction", {"m": (1, 17), "n": (0, 129)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.sum(-1), k=lambda s: s["n"], magnitude=lambda x: x.sum(-1), edge=True, empty_dim="n",
       dtypes=FLOATS + ("int32",)),
    Op("mean", "reduction", {"m": (1, 17), "n": (1, 129)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.mean(-1), k=lambda s: s["n"], magnitude=lambda x: x.mean(-1)),
    Op("var", "reduction", {"m": (1, 17), "n": (2, 129)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.var(-1), k=lambda s: s["n"]),
    Op("max", "select", {"m": (1, 17), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.max(-1).values, exact=True, edge=True, dtypes=FLOATS + ("int32",)),
    Op("argmax", "select", {"m": (1, 17), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.gather(-1, x.argmax(-1, keepdim=True)), exact=True, grad=False,
       note="compares the value at the device's argmax with the maximum: ties may pick another index"),
    Op("cumsum", "reduction", {"m": (1, 17), "n": (1, 129)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.cumsum(-1), k=lambda s: s["n"], magnitude=lambda x: x.cumsum(-1), edge=True,
       dtypes=FLOATS + ("int32",)),
    Op("sort", "select", {"m": (1, 17), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: x.sort(-1).values, exact=True, dtypes=FLOATS + ("int32",),
       note="compares sorted values: equal keys may come in another order"),
    Op("topk", "select", {"m": (1, 17), "n": (1, 65), "kk": (1, 8)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x, kk=1: x.topk(min(kk, x.shape[-1]), -1).values, exact=True, dtypes=FLOATS + ("int32",),
       extra={"kk": "kk"}),
    Op("gather", "index", {"m": (1, 17), "n": (1, 33), "j": (1, 17)},
       lambda g, s: [randn(g, s["m"], s["n"]), randint(g, s["n"], s["m"], s["j"])],
       lambda x, idx: x.gather(-1, idx), dtypes=FLOATS + ("int32",)),
    Op("index_select", "index", {"m": (1, 33), "n": (1, 17), "j": (1, 17)},
       lambda g, s: [randn(g, s["m"], s["n"]), randint(g, s["m"], s["j"])],
       lambda x, idx: x.index_select(0, idx), dtypes=FLOATS + ("int32",)),
    Op("scatter_add", "index", {"m": (1, 17), "n": (1, 33), "j": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["n"]), randn(g, s["m"], s["j"]), randint(g, s["n"], s["m"], s["j"])],
       lambda x, src, idx: x.scatter_add(-1, idx, src), k=lambda s: s["j"] + 1,
       magnitude=lambda x, src, idx: x.scatter_add(-1, idx, src)),
    Op("scatter", "index", {"m": (1, 17), "n": (1, 33)},
       lambda g, s: [randn(g, s["m"], s["n"]), randn(g, s["m"], s["n"]),
                     _t().argsort(_t().rand(s["m"], s["n"], generator=g), -1)],
       lambda x, src, idx: x.scatter(-1, idx, src), grad=False,
       note="indices are a permutation per row, so the result does not depend on write order"),
    Op("embedding", "index", {"vocab": (1, 49), "d": (1, 17), "j": (1, 21)},
       lambda g, s: [randn(g, s["vocab"], s["d"]), randint(g, s["vocab"], s["j"])],
       lambda w, idx: _F().embedding(idx, w)),
    Op("fft", "fft", {"m": (1, 9), "n": (1, 65)}, lambda g, s: [randn(g, s["m"], s["n"])],
       lambda x: _t().view_as_real(_t().fft.fft(x)), k=lambda s: s["n"],
       magnitude=lambda x: x.sum(-1, keepdim=True).unsqueeze(-1).expand(*x.shape, 2),
       dtypes=("float32",), note="float32 only: CPU FFT has no half types, and CUDA/ROCm only powers of two"),
)

OPS_BY_NAME = {op.name: op for op in OPS}


def cases() -> list[tuple[str, str]]:
    """(op, dtype) pairs, the parametrisation of the parity tests."""
    return [(op.name, dtype) for op in OPS for dtype in op.dtypes]
