"""The plugin end to end (pytester): options, usage errors, markers, known issues."""

from __future__ import annotations

import pytest

from tests.helpers import MACHINES, PLUGINS_CONFTEST

GOOD = str(MACHINES / "780m-good")  # always passed as --sysroot=PATH: see README (rootdir)
OLD = str(MACHINES / "780m-kernel-6.8")
NONE = str(MACHINES / "no-amd-gpu")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    return pytester


def error_lines(result: pytest.RunResult) -> list[str]:
    return [l for l in result.errlines + result.outlines if l.startswith("ERROR")]


@pytest.mark.parametrize("args, words", [
    (["--apu=gfx9999"], "unknown --apu target 'gfx9999'; known targets: gfx1030"),
    (["--apu=gfx1100", "--sysroot=" + GOOD], "--apu=gfx1100 but this machine's AMD GPU is gfx1103 (KFD node 1)"),
    (["--apu=gfx1103", "--sysroot=" + NONE], "--apu=gfx1103 but no AMD GPU was found"),
    (["--rocm", ">>6"], "--rocm: '>>6' is not a version specifier"),
    (["--min-gtt", "lots"], "--min-gtt: cannot read 'lots' as a size"),
    (["--sysroot=/nonexistent/machine"], "--sysroot /nonexistent/machine: not a directory"),
])
def test_usage_errors_are_one_line(suite, args, words):
    result = suite.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = error_lines(result)
    assert len(lines) == 1 and words in lines[0], result.errlines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_level_choices_are_enforced(suite):
    result = suite.runpytest("--level", "extreme")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--level 'extreme': not one of quick, standard, full" in result.stderr.str()


def test_help_lists_options(suite):
    result = suite.runpytest("--help")
    text = result.stdout.str()
    for option in ("--apu=TARGET", "--rocm=SPEC", "--sysroot=DIR", "--min-gtt=SIZE", "--level=", "--report-dir=DIR"):
        assert option in text


def test_markers_are_registered(suite):
    text = suite.runpytest("--markers").stdout.str()
    for marker in ("gpu_arch(*patterns)", "rocm(spec)", "kernel(spec)", "requires(*components)", "level(name)",
                   "known_issue(id)"):
        assert f"@pytest.mark.{marker}" in text


MARKED = """
import pytest
pytestmark = pytest.mark.gpu_arch("gfx11*", "gfx90c")

class TestC:
    pytestmark = pytest.mark.rocm(">=6")

    @pytest.mark.gpu_arch("gfx1100")
    def test_combined(self):
        pass

    def test_class_only(self):
        pass

@pytest.mark.kernel(">=6.10")
def test_kernel():
    pass

@pytest.mark.requires("rocm", "kfd")
def test_needs_rocm():
    pass

@pytest.mark.level("full")
def test_full():
    pass
"""


def outcomes(reprec: pytest.HookRecorder) -> dict[str, str]:
    reports = reprec.getreports("pytest_runtest_logreport")
    seen: dict[str, str] = {}
    for rep in reports:
        name = rep.nodeid.split("::")[-1]
        if rep.when == "call" or rep.skipped or rep.failed:
            reason = rep.longrepr[2] if rep.skipped and isinstance(rep.longrepr, tuple) else ""
            seen[name] = f"{rep.outcome}: {reason}" if reason else rep.outcome
    return seen


def test_markers_on_a_good_780m(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_m=MARKED)
    got = outcomes(pytester.inline_run("--sysroot=" + GOOD))
    assert got["test_combined"] == "skipped: Skipped: requires gpu arch gfx1100: target is gfx1103"
    assert got["test_class_only"] == "passed" and got["test_kernel"] == "passed" and got["test_needs_rocm"] == "passed"
    assert got["test_full"] == "skipped: Skipped: level full test; this run is --level standard"


def test_markers_elsewhere(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_m=MARKED)
    old = outcomes(pytester.inline_run("--sysroot=" + OLD, "--level", "full"))
    assert old["test_kernel"] == "skipped: Skipped: requires kernel >=6.10: found 6.8.0-49-generic"
    assert old["test_full"] == "passed"
    off = outcomes(pytester.inline_run("--sysroot=" + GOOD, "--apu", "none"))
    assert off["test_class_only"].startswith("skipped: Skipped: requires gpu arch gfx11* or gfx90c: no AMD target")


def test_requires_reports_what_was_found(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_r="import pytest\n@pytest.mark.requires('rocm')\ndef test_r():\n    pass\n")
    got = outcomes(pytester.inline_run("--sysroot=" + NONE))
    assert got["test_r"] == ("skipped: Skipped: requires rocm: ROCm not found: /opt/rocm/.info/version does not exist")


@pytest.mark.parametrize("mark, words", [
    ("requires('gpu')", "unknown component(s) ['gpu']; known: amd_gpu"),
    ("rocm('>>6')", "'>>6' is not a version specifier"),
    ("kernel()", "give one specifier string"),
    ("level('extreme')", "level must be one of quick, standard, full"),
    ("gpu_arch()", "give one or more gfx patterns"),
    ("known_issue('nope-1')", "unknown id(s) ['nope-1']; known:"),
])
def test_bad_marker_arguments_are_usage_errors(pytester, mark, words):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_b=f"import pytest\n@pytest.mark.{mark}\ndef test_b():\n    pass\n")
    result = pytester.runpytest_inprocess("--sysroot=" + GOOD)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(words in l and "test_b.py::test_b" in l for l in error_lines(result)), result.errlines


KNOWN = """
import pytest

@pytest.mark.known_issue("linux-eb853413")
def test_fails():
    assert False, "KFD sees only the carve-out"

@pytest.mark.known_issue("linux-eb853413")
def test_passes():
    pass
"""


def test_known_issue_becomes_xfail_where_it_applies(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_k=KNOWN)
    result = pytester.runpytest_inprocess("--sysroot=" + OLD, "-rx")
    result.assert_outcomes(xfailed=1, passed=1)
    out = result.stdout.str()
    assert "known issue linux-eb853413" in out and "https://" in out
    assert "test_passes: passed although linux-eb853413 should apply here" in out


def test_known_issue_fails_normally_outside_it(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_k=KNOWN)
    result = pytester.runpytest_inprocess("--sysroot=" + GOOD)
    result.assert_outcomes(failed=1, passed=1)
    assert "did not reproduce" not in result.stdout.str()
