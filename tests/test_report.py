"""Reports: the JSON document, the self-contained HTML page, and crash safety."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import MACHINES, PLUGINS_CONFTEST, REPO

CHECKS = """
import os
import pytest
from fixtures.verdict import failed, passed

def test_pass(check):
    check(passed("a check", "x", "x", measurements={"gib": 48}))

def test_fail(check):
    check(failed("another check", "GTT >= 64 GiB", "GTT 48 GiB", remedy="raise pages_limit"))

@pytest.mark.skip(reason="not today")
def test_skip():
    pass
"""


@pytest.fixture
def doc(pytester: pytest.Pytester) -> dict:
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    pytester.runpytest_inprocess(f"--sysroot={MACHINES / '780m-good'}")
    (path,) = (pytester.path / "reports").glob("*.json")
    return json.loads(path.read_text())


def test_json_document(doc):
    assert doc["schema"] == "apu-conformance/1" and doc["finished"]
    assert doc["target"]["gfx"] == "gfx1103" and doc["machine"]["kernel"]["release"]["text"] == "6.11.0-29-generic"
    by_name = {r["nodeid"].split("::")[-1]: r for r in doc["results"]}
    assert by_name["test_pass"]["outcome"] == "passed" and by_name["test_pass"]["measurements"] == {"gib": 48}
    assert by_name["test_fail"]["verdict"]["remedy"] == "raise pages_limit"
    assert by_name["test_skip"]["outcome"] == "skipped" and by_name["test_skip"]["message"] == "not today"
    assert doc["summary"] == {"other": {"passed": 1, "failed": 1, "skipped": 1}}


def test_user_name_is_redacted(doc):
    assert doc["machine"]["user"]["name"] == "<user>"


def test_html_is_self_contained_with_findings(doc):
    html = open(doc["html"]).read()
    assert "APU conformance report" in html and "Finding" in html and "Area" in html
    assert 'rel="stylesheet" href=' not in html  # CSS inlined
    assert "gfx1103" in html and "raise pages_limit" in html


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
    (path,) = (pytester.path / "reports").glob("*.json")
    doc = json.loads(path.read_text())
    assert doc["finished"] is None
    assert [r["outcome"] for r in doc["results"]] == ["passed", "running"]


def test_unwritable_report_dir_is_reported_not_fatal(pytester):
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_a="def test_one():\n    pass\n")
    blocker = pytester.path / "blocked"
    blocker.write_text("a file, not a directory")
    result = pytester.runpytest_inprocess(f"--report-dir={blocker / 'sub'}", "-p", "no:html")
    assert result.ret == 0
    assert "report: could not write" in result.stdout.str()
