"""What a person reads: the terminal summary (a failure's line carries its check's sentence
and what was found; skips grouped by reason with their count; the APU section last) and
honest area verdicts (CPU-side checks alone never make an area "works")."""

from __future__ import annotations

import pytest

from reports.document import area_verdict, check_name, found_line, skip_groups
from tests.helpers import MACHINES, PLUGINS_CONFTEST, load_report

HF_TESTS = '''
import pytest
from fixtures.verdict import failed, passed

@pytest.mark.cpu_side("offline access touches no GPU")
def test_offline(check):
    """the hub is not reached"""
    check(passed("the hub is not reached", "offline", "offline"))

@pytest.mark.requires("amd_gpu")
def test_on_gpu():
    """embeddings on the GPU match the CPU"""

@pytest.mark.parametrize("n", range(5))
def test_same_reason(n):
    pytest.skip("no model downloaded: run fixtures.provision")
'''

KERNEL_TESTS = '''
from fixtures.verdict import failed

def test_gtt(check):
    """kernel lets KFD use GTT"""
    check(failed("kernel lets KFD use GTT", "kernel >= 6.10", "kernel 6.8.0-49-generic\\nsecond line",
                 remedy="install a newer kernel"))
'''


@pytest.fixture
def run(pytester: pytest.Pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    for area, text in (("hf", HF_TESTS), ("kernel", KERNEL_TESTS)):
        (pytester.path / "suites" / area).mkdir(parents=True)
        (pytester.path / "suites" / area / f"test_{area}.py").write_text(text)

    def go(*args: str) -> tuple[pytest.RunResult, dict]:
        reports = pytester.path / f"reports{len(list(pytester.path.glob('reports*')))}"
        result = pytester.runpytest_inprocess(f"--sysroot={MACHINES / 'no-amd-gpu'}", f"--report-dir={reports}",
                                              "-rxX", *args)
        return result, load_report(reports)

    return go


def test_terminal_groups_skips_and_names_failures(run):
    result, _ = run()
    lines = result.outlines
    failed = [l for l in lines if l.startswith("FAILED ")]
    assert failed == ["FAILED suites/kernel/test_kernel.py::test_gtt - kernel lets KFD use GTT: "
                      "found kernel 6.8.0-49-generic"]
    skipped = [l for l in lines if l.startswith("SKIPPED ")]
    assert "SKIPPED [5] HF: no model downloaded: run fixtures.provision" in skipped
    assert any(l.startswith("SKIPPED [1] HF: requires amd_gpu: ") for l in skipped)
    assert len(skipped) == 2  # one line per reason, not per test
    sections = [l for l in lines if l.startswith("==")]
    assert "APU conformance: no AMD GPU" in sections[-2] and "passed" in sections[-1]
    assert any(l.startswith("HF           not tested on a GPU: 1 passed, 6 skipped") for l in lines)
    assert any(l.startswith("Kernel       broken: 1 failed") for l in lines)


def test_dash_rs_still_lists_every_skip(run):
    result, _ = run("-rs")
    per_test = [l for l in result.outlines if l.startswith("SKIPPED [1] suites/hf/test_hf.py")]
    assert len(per_test) >= 1 and any("SKIPPED [5] suites/hf/test_hf.py" in l for l in result.outlines)


def test_report_has_every_checks_sentence_and_honest_verdicts(run):
    _, doc = run()
    by_name = {r["nodeid"].split("::")[-1]: r for r in doc["results"]}
    assert by_name["test_on_gpu"]["outcome"] == "skipped"
    assert by_name["test_on_gpu"]["check"] == "embeddings on the GPU match the CPU"  # never ran: its docstring
    assert by_name["test_same_reason[3]"]["check"] == "same reason (3)"  # no docstring: its name in words
    assert by_name["test_offline"]["cpu_side"] == "offline access touches no GPU"
    assert doc["areas"]["hf"]["verdict"] == "not tested on a GPU"
    assert "only the CPU side was checked" in doc["areas"]["hf"]["reason"]
    assert doc["areas"]["kernel"]["verdict"] == "broken"


def rec(outcome: str, **extra) -> dict:
    return {"nodeid": f"suites/x/test_x.py::test_{outcome}", "area": "x", "outcome": outcome, "message": "",
            **extra}


def test_cpu_side_checks_alone_never_make_an_area_work():
    assert area_verdict([rec("passed", cpu_side="cpu"), rec("skipped")])["verdict"] == "not tested on a GPU"
    assert area_verdict([rec("passed", cpu_side="cpu"), rec("passed")])["verdict"] == "works"
    assert area_verdict([rec("passed", cpu_side="cpu"), rec("failed")])["verdict"] == "broken"


def test_skip_groups_strip_the_check_name_so_parametrized_skips_group():
    recs = [rec("skipped", check=f"GPU providers match ({k})", message=f"GPU providers match ({k}): not applicable: "
                "no GPU execution provider") for k in ("a", "b", "c")]
    (group,) = skip_groups(recs)
    assert group["count"] == 3 and group["reason"] == "no GPU execution provider" and group["areas"] == ["x"]
    assert check_name(recs[0]) == "GPU providers match (a)"


def test_a_failure_without_a_verdict_shows_its_error_line():
    message = "def test_x():\n>       assert 1 == 2\nE       assert 1 == 2\n\ntest_x.py:3: AssertionError"
    assert found_line(rec("failed", check="x works", message=message)) == "x works: assert 1 == 2"
