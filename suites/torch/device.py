"""What torch says about itself and the device under test, gathered once into a
`DeviceFacts` so the device checks are pure functions (and self-testable with facts
recorded from real machines, e.g. the captures' `torch.cuda.get_device_properties`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from fixtures.profile import SystemProfile

LAUNCH_ERRORS = ("invalid device function", "no kernel image", "hipErrorNoBinaryForGpu",
                 "no binary for gpu", "HSA_STATUS_ERROR_INVALID_ISA", "Unable to find code object")


@dataclass(frozen=True)
class DeviceFacts:
    """torch's build and the device under test, as torch reports them."""

    torch_version: str
    hip_version: str | None
    cuda_version: str | None
    device: str
    name: str = ""
    arch: str | None = None  # gcnArchName (ROCm, e.g. "gfx1100" or "gfx90c:xnack-") or "sm_90" (CUDA)
    arch_list: tuple[str, ...] = ()
    total_memory: int | None = None
    mem_free: int | None = None
    mem_total: int | None = None
    is_integrated: bool | None = None
    launch_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_gpu(self) -> bool:
        return self.device != "cpu"

    @property
    def base_arch(self) -> str | None:
        """gcnArchName without target features: gfx90a:sramecc+:xnack- -> gfx90a."""
        return self.arch.split(":")[0] if self.arch else None

    @property
    def build(self) -> str:
        if self.hip_version:
            return f"torch {self.torch_version} (ROCm/HIP {self.hip_version})"
        if self.cuda_version:
            return f"torch {self.torch_version} (CUDA {self.cuda_version})"
        return f"torch {self.torch_version} (CPU-only build)"


class DeviceUnavailable(Exception):
    """No usable device: the message is the skip reason."""


def resolve_device(torch: Any, choice: str, profile: SystemProfile) -> str:
    """`--torch-device` to a device string, or DeviceUnavailable with the reason."""
    if choice == "cpu":
        return "cpu"
    build_gpu = bool(getattr(torch.version, "hip", None) or getattr(torch.version, "cuda", None))
    if choice != "auto":
        try:
            device = torch.device(choice)
        except (RuntimeError, ValueError) as exc:
            raise DeviceUnavailable(f"--torch-device {choice!r} is not a torch device: {exc}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceUnavailable(f"--torch-device {choice}: torch.cuda.is_available() is False")
        return str(device)
    if torch.cuda.is_available():
        return "cuda"
    if not build_gpu:
        raise DeviceUnavailable(f"CPU-only build of torch {torch.__version__}: install the ROCm build "
                                "(python3 -m fixtures.provision --torch rocm) or run with --torch-device=cpu")
    if profile.device_node("/dev/kfd").exists:
        raise DeviceUnavailable("torch.cuda.is_available() is False although /dev/kfd exists: usually this user "
                                "cannot open /dev/kfd (join the render group) or HSA_OVERRIDE_GFX_VERSION names an "
                                "arch this build has no kernels for; see the kernel suite's checks")
    raise DeviceUnavailable(f"no GPU visible to {torch.__version__}: torch.cuda.is_available() is False")


def build_facts(torch: Any) -> DeviceFacts:
    """Only what the build says (no device needed): enough to tell ROCm from CUDA or CPU."""
    return DeviceFacts(torch.__version__, getattr(torch.version, "hip", None),
                       getattr(torch.version, "cuda", None), device="none")


def gather_facts(torch: Any, device: str) -> DeviceFacts:
    """Ask torch; a first kernel launch is part of it, its error kept as a fact."""
    facts: dict[str, Any] = {
        "torch_version": torch.__version__,
        "hip_version": getattr(torch.version, "hip", None),
        "cuda_version": getattr(torch.version, "cuda", None),
        "device": device,
    }
    if device != "cpu":
        index = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(index)
        facts["name"] = props.name
        arch = getattr(props, "gcnArchName", None)
        facts["arch"] = arch or f"sm_{props.major}{props.minor}"
        facts["arch_list"] = tuple(torch.cuda.get_arch_list())
        facts["total_memory"] = props.total_memory
        facts["is_integrated"] = bool(getattr(props, "is_integrated", False))
    try:
        x = torch.ones(1024, device=device)
        if float((x * 2).sum().item()) != 2048.0:
            facts["launch_error"] = "a first kernel (ones * 2, summed) returned a wrong result"
        if device != "cpu":
            facts["mem_free"], facts["mem_total"] = torch.cuda.mem_get_info(torch.device(device))
    except RuntimeError as exc:
        facts["launch_error"] = str(exc).strip().splitlines()[0][:300]
    return DeviceFacts(**facts)


def override_env() -> str | None:
    return os.environ.get("HSA_OVERRIDE_GFX_VERSION")
