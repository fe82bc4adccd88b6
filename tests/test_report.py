"""Reports written by the plugin: the JSON document (validated against the schema),
the one-page HTML, redaction, crash safety, the baseline diff and JUnit output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reports.document import SCHEMA_FILE
from tests.helpers import MACHINES, PLUGINS_CONFTEST, REPO, load_report

jsonschema = pytest.importorskip("jsonschema")

CHECKS = """
import os
import pytest
from fixtures.verdict import failed, passed

def test_pass(check):
    check(passed("a check", "x", "x", measurements={"gib": 48}))

def test_fail(check):
    check(failed("another check", "GTT >= 64 GiB", "GTT 48 GiB in /home/alice/x on 10.1.2.3",
                 remedy="raise pages_limit"))

@pytest.mark.skip(reason="not today")
def test_skip():
    pass
"""


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(doc)




@pytest.fixture
def run(pytester: pytest.Pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)

    runs = iter(range(100))

    def go(*args: str) -> tuple[pytest.RunResult, dict]:
        reports = pytester.path / f"reports{next(runs)}"
        result = pytester.runpytest_inprocess(f"--sysroot={MACHINES / '780m-good'}", f"--report-dir={reports}", *args)
        return result, load_report(reports)

    return go


def test_json_document_validates(run):
    _, doc = run()
    validate(doc)
    assert doc["schema"] == "apu-conformance/2" and doc["status"] == "complete" and doc["finished"]
    assert doc["target"]["gfx"] == "gfx1103"
    summary = doc["machine"]["summary"]
    assert summary["cpu"].startswith("AMD Ryzen 7 8700G") and summary["gtt_bytes"] == 48 * 1024**3
    assert summary["gpus"] == [{"name": "AMD Radeon 780M Graphics", "gfx": "gfx1103", "pci": None}]
    by_name = {r["nodeid"].split("::")[-1]: r for r in doc["results"]}
    assert by_name["test_pass"]["measurements"] == {"gib": 48}
    assert by_name["test_fail"]["verdict"]["remedy"] == "raise pages_limit"
    assert by_name["test_skip"]["outcome"] == "skipped" and by_name["test_skip"]["message"] == "not today"
    assert doc["areas"]["other"]["verdict"] == "broken"
    assert doc["areas"]["other"]["reason"] == "1 of 2 checks failed: another check"


def test_redacted_by_default_and_on_request_not(run):
    _, doc = run()
    text = json.dumps(doc)
    assert doc["redacted"] and "/home/<user>/x" in text and "<ip>" in text and "alice" not in text
    _, kept = run("--no-redact")
    assert not kept["redacted"] and "/home/alice/x on 10.1.2.3" in json.dumps(kept)


def test_html_page_is_self_contained(run, pytester):
    result, doc = run()
    page = (pytester.path / "reports0" / doc["html"]).read_text()
    for words in ('id="verdicts"', 'id="machine"', 'id="memory-chart"', 'id="checks"', "raise pages_limit",
                  doc["log_html"]):
        assert words in page
    for external in ("<link ", 'src="http', "src='http", "url(http", "@import"):
        assert external not in page
    assert result.outlines[-2].startswith("data:") and "log: " in result.outlines[-2]
    assert doc["html"] in result.outlines[-3]


def test_no_report_for_collect_only(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    pytester.runpytest_inprocess("--collect-only")
    assert not (pytester.path / "reports").exists()


def test_a_run_that_dies_leaves_a_valid_report(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_a="def test_one():\n    pass\n\ndef test_two():\n    import os\n    os._exit(3)\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"], cwd=pytester.path,
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 3
    raw = load_report(pytester.path / "reports")
    validate(raw)
    assert raw["status"] == "running" and raw["finished"] is None and raw["records"].endswith(".jsonl")
    from reports.document import load

    (path,) = (pytester.path / "reports").glob("*.json")
    doc = load(path)  # the record file laid over it; the process that wrote it is gone
    validate(doc)
    assert doc["status"] == "killed" and "no longer exists" in doc["status_note"]
    assert [r["outcome"] for r in doc["results"]] == ["passed", "crashed"]
    assert doc["areas"]["other"]["verdict"] == "broken"
    page = (pytester.path / "reports" / doc["html"]).read_text()  # the page written at the start
    assert 'id="status">running' in page


def test_interrupted_run_is_marked(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_a="def test_one():\n    raise KeyboardInterrupt\n\ndef test_two():\n    pass\n")
    pytester.inline_run(no_reraise_ctrlc=True)
    doc = load_report(pytester.path / "reports")
    validate(doc)
    assert doc["status"] == "interrupted"


def test_report_dir_lost_mid_run_is_reported_not_fatal(pytester):
    """The directory checked at the start can still go (a full disk, an unmounted share): the run
    goes on and the summary says the report could not be written."""
    pytester.makeconftest(PLUGINS_CONFTEST)
    out = pytester.path / "out"
    pytester.makepyfile(test_a=f"import shutil\nfrom pathlib import Path\n\ndef test_one():\n"
                               f"    shutil.rmtree({str(out)!r})\n    Path({str(out)!r}).write_text('now a file')\n")
    result = pytester.runpytest_inprocess(f"--report-dir={out}", "-p", "no:html")
    assert result.ret == 0
    assert "report: could not write" in result.stdout.str()


def test_baseline_regression_fails_the_run(pytester):
    """Last night the user was in the render group; tonight not: the run goes red."""
    good = pytester.path / "good"
    kernel = str(REPO / "suites" / "kernel")
    pytester.runpytest_inprocess(kernel, f"--sysroot={MACHINES / '780m-good'}", f"--report-dir={good}")
    (old,) = good.glob("*.json")
    result = pytester.runpytest_inprocess(kernel, f"--sysroot={MACHINES / '780m-good'}", f"--baseline={old}",
                                          f"--report-dir={pytester.path / 'same'}")
    assert result.ret == 0 and "no regressions, no fixes" in result.stdout.str()
    result = pytester.runpytest_inprocess(kernel, f"--sysroot={MACHINES / '780m-no-render-group'}",
                                          f"--baseline={old}", f"--report-dir={pytester.path / 'bad'}")
    assert result.ret == 1
    out = result.stdout.str()
    assert "REGRESSION suites/kernel/test_kernel.py::test_kfd_device_usable: passed -> failed" in out
    doc = load_report(pytester.path / "bad")
    assert len(doc["baseline"]["regressions"]) == 3


def test_bad_baseline_is_a_usage_error(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    junk = pytester.path / "junk.json"
    junk.write_text('{"hello": 1}')
    result = pytester.runpytest_inprocess(f"--baseline={junk}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "not an APU conformance report" in result.stderr.str()


def test_junit_xml_alongside(run, pytester):
    run(f"--junitxml={pytester.path / 'junit.xml'}")
    xml = (pytester.path / "junit.xml").read_text()
    assert 'tests="3"' in xml and "another check: FAIL" in xml


def test_internal_error_never_reads_as_passed(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST + "\n\ndef pytest_runtest_logfinish(nodeid, location):\n"
                                             "    raise RuntimeError('a broken plugin')\n")
    pytester.makepyfile(test_a="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:html")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    doc = load_report(pytester.path / "reports")
    validate(doc)
    assert doc["status"] == "internal-error"
    from reports.page import render_page

    assert "do not trust passes" in render_page(doc)
