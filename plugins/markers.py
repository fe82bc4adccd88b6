"""The selection markers: gpu_arch, rocm, kernel, requires, level (and cpu_side, read by
plugins/sentences.py: the check proves only the CPU side).

Markers combine across module, class and function (every applied marker must hold;
within one gpu_arch marker any pattern may match).  They are validated at collection,
so a typo is a usage error naming the test, and evaluated at setup, so each skip says
which requirement was not met and what was found.
"""

from __future__ import annotations

import fnmatch

import pytest

from fixtures.components import COMPONENTS
from fixtures.unknown import Unknown
from fixtures.versions import parse_spec, satisfies
from plugins.options import LEVELS
from plugins.skips import skip_here
from plugins.state import run_state

MARKERS = {
    "gpu_arch": "gpu_arch(*patterns): run only when the target's gfx matches one of the fnmatch patterns, "
                "e.g. gpu_arch('gfx11*', 'gfx90c')",
    "rocm": "rocm(spec): run only when the host ROCm satisfies the PEP 440 specifier, e.g. rocm('>=6.2')",
    "kernel": "kernel(spec): run only when the running kernel satisfies the specifier, e.g. kernel('>=6.10')",
    "requires": f"requires(*components): run only when all are present; components: {', '.join(COMPONENTS)}",
    "level": f"level(name): belongs to run level {' < '.join(LEVELS)}; runs when --level is at least that",
    "known_issue": "known_issue(id): a failure matching the known issue's versions/archs becomes xfail "
                   "with its link (ids in fixtures/knowledge/known_issues.toml)",
    "cpu_side": "cpu_side(why): the check proves only the CPU side (offline access, CPU-provider parity): "
                "alone it cannot make its area 'works'",
}


def pytest_configure(config: pytest.Config) -> None:
    for text in MARKERS.values():
        config.addinivalue_line("markers", text)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers():
            validate_marker(item, mark)


def validate_marker(item: pytest.Item, mark: pytest.Mark) -> None:
    """Reject malformed marker arguments before anything runs."""
    where = f"{item.nodeid}: @pytest.mark.{mark.name}{mark.args!r}"
    if mark.name == "gpu_arch":
        if not mark.args or not all(isinstance(a, str) for a in mark.args):
            raise pytest.UsageError(f"{where}: give one or more gfx patterns, e.g. gpu_arch('gfx11*')")
    elif mark.name in ("rocm", "kernel"):
        if len(mark.args) != 1 or not isinstance(mark.args[0], str):
            raise pytest.UsageError(f"{where}: give one specifier string, e.g. {mark.name}('>=6.2')")
        try:
            parse_spec(mark.args[0])
        except ValueError as exc:
            raise pytest.UsageError(f"{where}: {exc}") from None
    elif mark.name == "requires":
        unknown = [a for a in mark.args if a not in COMPONENTS]
        if not mark.args or unknown:
            raise pytest.UsageError(f"{where}: unknown component(s) {unknown or '(none given)'}; "
                                    f"known: {', '.join(COMPONENTS)}")
    elif mark.name == "cpu_side":
        if len(mark.args) > 1 or not all(isinstance(a, str) for a in mark.args):
            raise pytest.UsageError(f"{where}: give at most one string saying why, e.g. cpu_side('CPU provider only')")
    elif mark.name == "level":
        if len(mark.args) != 1 or mark.args[0] not in LEVELS:
            raise pytest.UsageError(f"{where}: level must be one of {', '.join(LEVELS)}")


def unmet_requirement(item: pytest.Item) -> str | None:
    """The first marker requirement this item does not meet, as a sentence, or None."""
    state = run_state(item.config)
    profile, target = state.profile, state.target
    level_marks = [m.args[0] for m in item.iter_markers("level")]
    if level_marks:
        needed = max(level_marks, key=LEVELS.index)
        if LEVELS.index(needed) > LEVELS.index(state.options.level):
            return f"level {needed} test; this run is --level {state.options.level}"
    for mark in item.iter_markers("requires"):
        for component in mark.args:
            ok, found = COMPONENTS[component](profile, target)
            if not ok:
                return f"requires {component}: {found}"
    for mark in item.iter_markers("gpu_arch"):
        if target.gfx is None:
            return f"requires gpu arch {' or '.join(mark.args)}: no AMD target ({target.how})"
        if not any(fnmatch.fnmatch(target.gfx, p) for p in mark.args):
            return f"requires gpu arch {' or '.join(mark.args)}: target is {target.gfx}"
    for mark in item.iter_markers("rocm"):
        version = profile.rocm.version
        if isinstance(version, Unknown):
            return f"requires ROCm {mark.args[0]}: {version.why}"
        if not satisfies(version, mark.args[0]):
            return f"requires ROCm {mark.args[0]}: found ROCm {version}"
    for mark in item.iter_markers("kernel"):
        release = profile.kernel.release
        if isinstance(release, Unknown):
            return f"requires kernel {mark.args[0]}: {release.why}"
        if not satisfies(release.version, mark.args[0]):
            return f"requires kernel {mark.args[0]}: found {release.text}"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = unmet_requirement(item)
    if reason:
        skip_here(reason)
