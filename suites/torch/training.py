"""Training parity: a small CNN and an MLP, trained on seeded MNIST-shaped synthetic
data for a few steps on the device and on the CPU from identical weights; the two loss
curves must agree and the loss must go down.

Data: 28x28 one-channel images from a seeded generator, labelled by a fixed random
linear "teacher", so the task is learnable and every run is the same.  TF32 is switched
off while the device trains, so float32 means float32 on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suites.torch.parity.faults import Fault, perturb

CURVE_RTOL = 2e-3  # float32 losses after a few dozen SGD steps; rounding differences grow slowly
CURVE_ATOL = 1e-5
MIN_DROP = 0.10  # the final loss must be at least 10 % below the first


@dataclass(frozen=True)
class CurveComparison:
    ok: bool
    worst_step: int
    worst_device: float
    worst_cpu: float
    decreased: bool
    message: str


def _data(torch: Any, n: int, seed: int) -> tuple[Any, Any]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=gen)
    teacher = torch.randn(28 * 28, 10, generator=gen)
    y = (x.flatten(1) @ teacher).argmax(1)
    return x, y


def _model(torch: Any, kind: str, seed: int) -> Any:
    torch.manual_seed(seed)
    nn = torch.nn
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))


def train(torch: Any, device: str, kind: str = "cnn", steps: int = 30, seed: int = 0,
          fault: Fault | None = None) -> list[float]:
    """Losses of `steps` full-batch SGD steps; the fault (if any) perturbs the logits."""
    x, y = _data(torch, 256, seed)
    model = _model(torch, kind, seed).to(device)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    saved = _tf32(torch, False)
    try:
        for _ in range(steps):
            opt.zero_grad()
            logits = model(x)
            if fault is not None:
                logits = perturb(fault, logits)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
    finally:
        _tf32(torch, *saved)
    return losses


def _tf32(torch: Any, matmul: bool, cudnn: bool | None = None) -> tuple[bool, bool]:
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = matmul
    torch.backends.cudnn.allow_tf32 = matmul if cudnn is None else cudnn
    return old


def compare_curves(device: list[float], cpu: list[float]) -> CurveComparison:
    """Step by step within CURVE_RTOL, and the device's loss went down by MIN_DROP."""
    excess = [abs(d - c) - (CURVE_ATOL + CURVE_RTOL * abs(c)) for d, c in zip(device, cpu)]
    worst = max(range(len(excess)), key=excess.__getitem__) if excess else 0
    agree = len(device) == len(cpu) and all(e <= 0 for e in excess)
    decreased = bool(device) and device[-1] <= device[0] * (1 - MIN_DROP)
    msg = (f"step {worst}: device loss {device[worst]:.6f} vs CPU {cpu[worst]:.6f} "
           f"(allowed +-{CURVE_ATOL + CURVE_RTOL * abs(cpu[worst]):.2g}); "
           f"loss {device[0]:.4f} -> {device[-1]:.4f} on the device, {cpu[0]:.4f} -> {cpu[-1]:.4f} on the CPU"
           if device and cpu else "no losses")
    return CurveComparison(agree and decreased, worst, device[worst] if device else 0.0,
                           cpu[worst] if cpu else 0.0, decreased, msg)
