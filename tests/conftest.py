"""Self-test fixtures: recorded machines, derived variants of them, pytester."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import requests  # noqa: F401 - imported before any in-process pytester run, which would unload it half-way


from fixtures.machine import RecordedMachine
from fixtures.probe import probe
from fixtures.profile import SystemProfile
from tests.helpers import MACHINES, derive_machine

pytest_plugins = ["pytester"]


@pytest.fixture
def recorded() -> Callable[[str | Path], SystemProfile]:
    """Probe a recorded machine by name (fixtures/machines/NAME) or path."""

    def load(name: str | Path) -> SystemProfile:
        path = Path(name) if Path(name).is_absolute() else MACHINES / str(name)
        return probe(RecordedMachine(path))

    return load


@pytest.fixture
def derive(tmp_path: Path) -> Callable[..., Path]:
    """Copy a recorded machine into tmp_path and change files / sidecar entries."""
    counter = iter(range(1000))

    def make(base: str, files: dict[str, str | None] | None = None, sidecar: dict | None = None) -> Path:
        return derive_machine(base, tmp_path / f"m{next(counter)}", files or {}, sidecar or {})

    return make
