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

# Fuzzing depth (tests/test_fuzz_parsers.py): examples per parser.  CI keeps the short profile;
# `pytest tests/test_fuzz_parsers.py --fuzz-profile=thorough -s` runs 10 000 per parser and
# prints the counts.  Own option, because hypothesis's pytest plugin is off (pyproject.toml).
FUZZ_PROFILES = {"ci": 400, "thorough": 10_000}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-profile", default="ci", choices=sorted(FUZZ_PROFILES),
                     help="hypothesis examples per parser: ci (400, default) or thorough (10 000)")


def pytest_configure(config: pytest.Config) -> None:
    """Load the fuzz profile before the test modules are imported: their @settings inherit it."""
    from hypothesis import settings

    for name, examples in FUZZ_PROFILES.items():
        settings.register_profile(name, max_examples=examples, deadline=None, derandomize=True, database=None)
    settings.load_profile(config.getoption("fuzz_profile"))


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


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """One line for CI's log: how the real-engine docker self-tests went, on which engine
    (tests/test_docker_engine.py records the engine's version on each of its tests)."""
    counts: dict[str, int] = {}
    engines: set[str] = set()
    reasons: set[str] = set()
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if "test_docker_engine.py" not in getattr(report, "nodeid", "") or report.when not in ("call", "setup") \
                    or (report.when == "setup" and outcome == "passed"):
                continue
            engine = [value for key, value in getattr(report, "user_properties", ()) if key == "docker_engine"]
            if not engine and outcome != "skipped":
                continue  # a test of the fixture itself, not one run against the engine
            counts[outcome] = counts.get(outcome, 0) + 1
            engines.update(engine)
            if outcome == "skipped" and isinstance(report.longrepr, tuple):
                reasons.add(str(report.longrepr[2]).removeprefix("Skipped: "))
    if counts:
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        where = f"dockerd {', '.join(sorted(engines))}" if engines else "; ".join(sorted(reasons)) or "no engine"
        terminalreporter.write_line(f"real docker engine self-tests ({where}): {summary}")
