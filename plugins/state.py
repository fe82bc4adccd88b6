"""The run's shared state, kept in `config.stash` under typed keys (as pytest's own
junitxml keeps its LogXML), so in-process pytester runs never share module globals."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from fixtures.profile import SystemProfile
from fixtures.target import Target


@dataclass(frozen=True)
class RunOptions:
    """The validated command-line options."""

    apu: str
    rocm: str | None
    sysroot: str | None
    min_gtt: int | None
    level: str
    report_dir: str | None
    torch_device: str = "auto"
    hf_model: str | None = None
    inject_faults: tuple[str, ...] = ()
    isolation: str = "auto"
    test_timeout: float | None = None


@dataclass
class RunState:
    """What every plugin reads: options, the probed machine, the target."""

    options: RunOptions
    profile: SystemProfile
    target: Target
    component_versions: dict[str, str] = field(default_factory=dict)


run_state_key = pytest.StashKey[RunState]()


def run_state(config: pytest.Config) -> RunState:
    return config.stash[run_state_key]
