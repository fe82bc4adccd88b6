"""The parity comparison: PyTorch's documented defaults, the sqrt(K) widening, NMSE."""

from __future__ import annotations

import math

import pytest

from suites.torch.parity.tolerance import (
    ASSERT_CLOSE_DEFAULTS,
    NMSE_DEFAULT,
    NMSE_LOOSE,
    backward_tolerance_for,
    compare,
    tolerance_for,
)

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_defaults_are_pytorchs(name):
    from torch.testing._comparison import default_tolerances

    rtol, atol = default_tolerances(getattr(torch, name))
    assert ASSERT_CLOSE_DEFAULTS[name] == (rtol, atol)


def test_documented_values():
    # https://pytorch.org/docs/stable/testing.html#torch.testing.assert_close, the table of defaults
    assert ASSERT_CLOSE_DEFAULTS == {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                                     "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def test_k1_is_assert_close():
    gen = torch.Generator().manual_seed(0)
    tol = tolerance_for("float32", "elementwise")
    for _ in range(200):
        e = torch.randn(7, generator=gen, dtype=torch.float64)
        a = e * (1 + torch.randn(7, generator=gen, dtype=torch.float64) * 3e-6)
        ours = compare(a, e, tol).within_tolerance
        try:
            torch.testing.assert_close(a, e, rtol=tol.rtol, atol=tol.atol)
            theirs = True
        except AssertionError:
            theirs = False
        assert ours == theirs


def test_reduction_widening_uses_sqrt_k_and_magnitude():
    tol = tolerance_for("float16", "reduction", k=100)
    e = torch.tensor([0.0], dtype=torch.float64)  # a sum that cancels to zero...
    magnitude = torch.tensor([50.0], dtype=torch.float64)  # ...of terms worth 50 in absolute value
    bound = tol.atol + tol.rtol * math.sqrt(100) * 50.0
    assert compare(e + bound * 0.99, e, tol, magnitude).within_tolerance
    assert not compare(e + bound * 1.01, e, tol, magnitude).within_tolerance


def test_nmse_limits():
    assert tolerance_for("float32", "matmul").nmse_limit == NMSE_LOOSE
    assert tolerance_for("float32", "norm").nmse_limit == NMSE_DEFAULT
    assert tolerance_for("bfloat16", "norm").nmse_limit == pytest.approx(1.6e-2**2)
    e = torch.linspace(1, 2, 100, dtype=torch.float64)
    a = e * 1.0005  # elementwise fine for fp16 rtol 1e-3, NMSE 2.5e-7 <= 1e-6
    assert compare(a, e, tolerance_for("float16", "elementwise")).ok
    bad = compare(e * 1.002, e, tolerance_for("float16", "reduction", k=400), e * 10)
    assert bad.within_tolerance and not bad.ok and bad.nmse > 1e-6  # NMSE alone catches it


def test_integers_are_exact():
    tol = tolerance_for("int32", "reduction", k=1000)
    assert tol.exact and tol.k == 1
    assert compare(torch.tensor([3, 4]), torch.tensor([3, 4]), tol).ok
    assert not compare(torch.tensor([3, 5]), torch.tensor([3, 4]), tol).ok


def test_non_finite_values_must_match():
    tol = tolerance_for("float32", "elementwise")
    ref = torch.tensor([float("nan"), float("inf"), 1.0], dtype=torch.float64)
    assert compare(ref.clone(), ref, tol).ok
    assert "non-finite" in compare(torch.tensor([0.0, float("inf"), 1.0]), ref, tol).describe(tol)
    assert not compare(torch.tensor([float("nan"), float("-inf"), 1.0]), ref, tol).ok


def test_zero_reference_is_judged_elementwise():
    tol = backward_tolerance_for("float32", "attention", k=4)
    zero = torch.zeros(10, dtype=torch.float64)
    assert compare(zero + 1e-7, zero, tol).ok
    assert not compare(zero + 1e-3, zero, tol).ok


def test_failure_message_names_everything():
    tol = tolerance_for("float32", "matmul", k=16)
    e = torch.ones(3, 3, dtype=torch.float64)
    a = e.clone()
    a[1, 2] = 1.5
    text = compare(a, e, tol, e * 16).describe(tol)
    for words in ("worst element [1, 2]", "device 1.5", "max abs err 0.5", "max rel err 0.5", "NMSE",
                  "atol 1e-05, rtol 1.3e-06, widened by sqrt(K) for a reduction of K=16"):
        assert words in text
