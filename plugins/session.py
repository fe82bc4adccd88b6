"""Probe the machine once per session, resolve `--apu`, and offer the fixtures every
suite starts from: `system`, `target`, `run_options` and `check`."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from fixtures.knowledge.horizon import horizon_caveats
from fixtures.knowledge.matching import component_versions
from fixtures.knowledge.tables import KnowledgeError
from fixtures.machine import open_machine
from fixtures.probe import probe
from fixtures.profile import SystemProfile
from fixtures.target import Target, TargetError, resolve_target
from fixtures.verdict import FAIL, NOT_APPLICABLE, Verdict
from plugins.options import read_options
from plugins.sentences import CPU_SIDE
from plugins.skips import skip_here
from plugins.state import RunOptions, RunState, run_state, run_state_key


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    options = read_options(config)
    # rocminfo can take seconds (or hang on a wedged GPU): not for collection or --level quick.
    run_commands = not config.getoption("collectonly") and options.level != "quick"
    profile = probe(open_machine(options.sysroot), run_commands=run_commands)
    try:
        target = resolve_target(options.apu, profile)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    except KnowledgeError as exc:
        raise pytest.UsageError(f"a knowledge table is broken: {exc}") from None
    config.stash[run_state_key] = RunState(options, profile, target)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = run_state(config)
    p = state.profile
    return [f"apu: target {state.target.how}",
            f"apu: machine {p.description}; kernel {p.kernel.release}; ROCm {p.rocm.version}; "
            f"level {state.options.level}"]


@pytest.fixture(scope="session")
def system(pytestconfig: pytest.Config) -> SystemProfile:
    """The probed machine (this one, or the recording given with --sysroot)."""
    return run_state(pytestconfig).profile


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The GPU under test, resolved from --apu."""
    return run_state(pytestconfig).target


@pytest.fixture(scope="session")
def run_options(pytestconfig: pytest.Config) -> RunOptions:
    return run_state(pytestconfig).options


# The knowledge an area's checks rest on when a verdict names none of its own (Verdict.rests_on):
# the kernel suite's GTT/TTM rules are kernel facts, the torch suite's are torch's and ROCm's, ...
AREA_RESTS_ON = {"kernel": ("kernel",), "torch": ("torch", "rocm"), "hf": ("transformers", "torch"),
                 "onnxruntime": ("onnxruntime",), "ollama": ("ollama",), "docker": ("docker",)}


def with_horizon(verdict: Verdict, area: str, config: pytest.Config) -> Verdict:
    """The verdict with a caveat for each component it rests on that is installed in a release
    newer than the suite's facts were checked against (fixtures/knowledge/horizon.toml):
    a verdict judged by older facts may not hold, and the user should know, never a failure."""
    rests_on = verdict.rests_on or AREA_RESTS_ON.get(area, ())
    if not rests_on:
        return verdict
    state = run_state(config)
    notes = horizon_caveats(rests_on, component_versions(state.profile, state.component_versions))
    notes = tuple(n for n in notes if n not in verdict.caveats)
    return replace(verdict, rests_on=tuple(rests_on), caveats=verdict.caveats + notes)


@pytest.fixture
def check(request: pytest.FixtureRequest) -> Callable[[Verdict], None]:
    """Conclude a test from a Verdict: fail with its message, skip when not applicable.

    The verdict travels to the report in `user_properties` (xdist forwards those).
    Returns None, so `return check(passed(...))` ends a test that has more to say after.
    """

    def conclude(verdict: Verdict) -> None:
        from plugins.results import area_of  # not at import: pytest registers (and rewrites) that plugin itself

        verdict = with_horizon(verdict, area_of(request.node.nodeid), request.config)
        request.node.user_properties.append(("verdict", verdict.as_dict()))
        if "torch_device" in request.fixturenames and request.getfixturevalue("torch_device") == "cpu":
            # --torch-device=cpu: a pass proves the CPU build, not the GPU (plugins/sentences.py)
            request.node.user_properties.append((CPU_SIDE, "ran on the CPU (--torch-device=cpu)"))
        for key, value in verdict.measurements.items():
            request.node.user_properties.append((f"measure:{key}", value))
        if verdict.status == FAIL:
            pytest.fail(verdict.message(), pytrace=False)
        if verdict.status == NOT_APPLICABLE:
            skip_here(f"{verdict.check}: not applicable: {verdict.found}")

    return conclude
