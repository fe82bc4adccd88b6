"""What each parity example is made of, and the hypothesis strategy that draws it.

An example is small (sizes, a seed, a magnitude, a layout), so hypothesis can shrink a
failure to the smallest sizes and simplest values that still fail; the tensors are then
made from the seed, in float64 on the CPU, and rounded to the dtype under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suites.torch.parity.ops import Op

EDGE_NONFINITE = "nan-inf"
EDGE_EMPTY = "empty"

# Magnitudes each dtype is driven through (first = what shrinking settles on).
# float16 tops out at 65504, so its "large" stays where products of a few terms fit.
SCALES = {"float32": (1.0, 1e-3, 1e3), "bfloat16": (1.0, 1e-3, 1e3), "float16": (1.0, 1e-2, 1e2),
          "int32": (1.0,)}


@dataclass(frozen=True)
class Example:
    """One drawn parity example."""

    sizes: dict[str, int]
    seed: int
    scale: float = 1.0
    noncontiguous: bool = False
    edge: str | None = None
    extra: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        layout = "non-contiguous" if self.noncontiguous else "contiguous"
        edge = f", edge case {self.edge}" if self.edge else ""
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return f"sizes {sizes}; {layout}; magnitude x{self.scale:g}; seed {self.seed}{edge}"


def examples(op: Op, dtype: str) -> Any:
    """Hypothesis strategy of examples for one op and dtype."""
    from hypothesis import strategies as st  # imported when examples are drawn, not at collection

    sizes = st.fixed_dictionaries({name: st.integers(max(lo, 1), hi)
                                   for name, (lo, hi) in op.dims.items()})
    return st.builds(Example, sizes=sizes, seed=st.integers(0, 2**31 - 1),
                     scale=st.sampled_from(SCALES[dtype]), noncontiguous=st.booleans())


def edge_examples(op: Op, dtype: str) -> list[Example]:
    """The fixed edge cases an op takes part in: an empty tensor, NaN/inf propagation."""
    base = {name: max(lo, 1) + 2 for name, (lo, _) in op.dims.items()}
    cases = []
    if op.empty_dim:
        cases.append(Example({**base, op.empty_dim: 0}, seed=1, edge=EDGE_EMPTY))
    if op.edge and dtype not in ("int32", "int64"):
        cases.append(Example(base, seed=2, edge=EDGE_NONFINITE))
    return cases
