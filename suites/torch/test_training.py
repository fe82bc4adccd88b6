"""A small CNN and an MLP train the same on the device as on the CPU, and learn."""

from __future__ import annotations

import pytest

from fixtures.verdict import failed, passed
from suites.torch.parity.faults import matching
from suites.torch.training import CURVE_RTOL, compare_curves, train

pytestmark = [pytest.mark.requires("torch"), pytest.mark.level("standard")]


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_training_parity(kind, torch_module, torch_device, faults, check):
    """training on the device matches the CPU."""
    fault = matching(faults, "training", "float32")
    device_losses = train(torch_module, torch_device, kind, fault=fault)
    cpu_losses = train(torch_module, "cpu", kind)
    result = compare_curves(device_losses, cpu_losses)
    name = f"{kind} training on {torch_device} matches the CPU"
    expected = f"loss curves within {CURVE_RTOL:g} relative, and the loss falls"
    m = {"first_loss": device_losses[0], "last_loss": device_losses[-1], "steps": len(device_losses)}
    if result.ok:
        check(passed(name, expected, result.message, measurements=m))
    else:
        why = "the device computes different gradients or updates" if result.decreased else "the model does not learn"
        check(failed(name, expected, result.message, why=why, measurements=m,
                     remedy="look for the failing op in test_parity.py; run with --level full for more examples"))
