"""torch's build read from its own version.py, without importing torch: the evidence that
lets GPU tests skip (and run in-process) on a CPU-only build."""

from __future__ import annotations

from fixtures.builds import TorchBuild, installed_torch_build, parse_version_file
from fixtures.unknown import Unknown

# The shape torch's build writes (tools/generate_torch_version.py); values as in released wheels.
ROCM = """from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'rocm', 'xpu']
__version__ = '2.9.1+rocm6.4'
debug = False
cuda: Optional[str] = None
git_version = 'd38164a545b4a4e4e0cf73ce67173f70574890b6'
hip: Optional[str] = '6.4.43484-123eb5128'
rocm: Optional[str] = '6.4.2'
"""
CUDA = "__version__ = '2.13.0+cu130'\ncuda: Optional[str] = '13.0'\nhip: Optional[str] = None\n"
CPU = "__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\nhip: Optional[str] = None\n"


def test_builds_are_told_apart():
    rocm, cuda, cpu = (parse_version_file(t) for t in (ROCM, CUDA, CPU))
    assert rocm == TorchBuild("2.9.1+rocm6.4", cuda=None, hip="6.4.43484-123eb5128") and rocm.gpu
    assert isinstance(cuda, TorchBuild) and cuda.gpu and cuda.cuda == "13.0"
    assert isinstance(cpu, TorchBuild) and not cpu.gpu and "CPU-only build of torch 2.13.0+cpu" in cpu.cpu_only_reason


def test_garbage_is_unknown_with_a_remedy():
    for text in ("def (", "x = 1\n", "__version__ = some_call()\n", "\x00"):
        found = parse_version_file(text, "/x/torch/version.py")
        assert isinstance(found, Unknown) and "reinstall torch" in found.why and "/x/torch/version.py" in found.why


def test_this_machine():
    found = installed_torch_build()
    assert found is None or isinstance(found, (TorchBuild, Unknown))
