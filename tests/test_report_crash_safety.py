"""Crash safety of the report: a SIGKILLed run leaves every test that finished (through
the record file beside the report) and reads as `killed`; SIGTERM and SIGHUP finish the
report as `interrupted`, naming the signal, with or without isolation and xdist; the
report says which process on which host wrote it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports.document import load
from tests.helpers import PLUGINS_CONFTEST, REPO
from tests.test_report import validate

MANY = """
import time
from pathlib import Path
import pytest

@pytest.mark.parametrize("i", range(400))
def test_t(i):
    time.sleep(0.005)
    with open("done.txt", "a") as fh:  # the test's last act: from here on the suite may report it
        fh.write(f"test_t[{i}]\\n")
"""

HANGS = """
import time
from pathlib import Path
import pytest

@pytest.mark.parametrize("i", range(6))
def test_t(i):
    if i == 3:
        Path("hanging").write_text("now")
        time.sleep(60)
"""


def start(path: Path, body: str, *args: str) -> subprocess.Popen:
    (path / "conftest.py").write_text(PLUGINS_CONFTEST)
    (path / "test_x.py").write_text(body)
    return subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)


def wait_for(predicate, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"the run ended or stalled first: {proc.communicate()[0][-2000:]}")
        time.sleep(0.02)


def report_path(path: Path) -> Path:
    (json_path,) = (path / "reports").glob("*.json")
    return json_path


def test_sigkill_midway_keeps_every_finished_test(tmp_path):
    proc = start(tmp_path, MANY)
    done = tmp_path / "done.txt"
    wait_for(lambda: done.exists() and done.read_text().count("\n") >= 120, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = done.read_text().split()
    doc = load(report_path(tmp_path))
    validate(doc)
    assert doc["status"] == "killed"
    outcomes = {r["nodeid"].split("::")[-1]: r["outcome"] for r in doc["results"]}
    # every test but the last one to write its name had finished for pytest too
    missing = [name for name in finished[:-1] if outcomes.get(name) != "passed"]
    assert not missing, f"{len(missing)} finished tests missing from the report, e.g. {missing[:3]}"
    assert len(finished) < 400 and "crashed" in outcomes.values() or len(outcomes) == len(finished)
    page = subprocess.run([sys.executable, "-m", "reports", "html", str(report_path(tmp_path)), "-o",
                           str(tmp_path / "page.html")], cwd=REPO, capture_output=True, text=True)
    assert page.returncode == 0, page.stderr
    html = (tmp_path / "page.html").read_text()
    assert 'id="status">killed' in html and "no longer exists" in html
    assert f"test_t[{finished[-2].split('[')[1]}" in html
    merged = subprocess.run([sys.executable, "-m", "reports", "merge", str(report_path(tmp_path)), "-o",
                             str(tmp_path / "matrix.html")], cwd=REPO, capture_output=True, text=True)
    assert merged.returncode == 0 and 'class="status killed">killed' in (tmp_path / "matrix.html").read_text()


@pytest.mark.parametrize("sig, args", [
    (signal.SIGTERM, ()), (signal.SIGHUP, ()), (signal.SIGINT, ()),
    (signal.SIGTERM, ("--isolation=all",)), (signal.SIGTERM, ("-n", "2")),
], ids=["SIGTERM", "SIGHUP", "SIGINT", "SIGTERM-isolated", "SIGTERM-xdist"])
def test_signals_finish_the_report_as_interrupted(tmp_path, sig, args):
    proc = start(tmp_path, HANGS, *args)
    wait_for((tmp_path / "hanging").exists, proc)
    time.sleep(0.2)
    proc.send_signal(sig)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-2000:]
    assert "Traceback" not in out
    raw = json.loads(report_path(tmp_path).read_text())
    validate(raw)
    assert raw["status"] == "interrupted" and raw["signal"] == sig.name and raw["finished"]
    assert raw["records"] is None and not list((tmp_path / "reports").glob("*.jsonl"))  # folded into the report
    doc = load(report_path(tmp_path))
    outcomes = [r["outcome"] for r in doc["results"]]
    assert outcomes.count("passed") >= (1 if args else 3) and outcomes.count("crashed") == 1
    from reports.page import render_page

    assert f"the run was interrupted by {sig.name}" in render_page(doc)
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert not leftovers, f"processes of the run outlived it: {leftovers}"


def test_report_names_its_process(tmp_path):
    proc = start(tmp_path, "def test_a():\n    pass\n", "--no-redact")
    proc.communicate(timeout=60)
    raw = json.loads(report_path(tmp_path).read_text())
    assert raw["pid"] == proc.pid and raw["host"] == socket.gethostname()
    assert set(raw["process_key"]) == {"host_id", "boot_id", "start_ticks"}
    assert load(report_path(tmp_path))["status"] == "complete"


def test_running_report_of_a_live_process_is_not_killed(tmp_path):
    """The reader asks whether the writer still runs: this process does."""
    from reports.process import this_process

    doc = {"schema": "apu-conformance/2", "status": "running", "results": [
        {"nodeid": "t::a", "area": "other", "outcome": "running"}], **this_process()}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    got = load(path)
    assert got["status"] == "running" and got["results"][0]["outcome"] == "running"
    assert got["status_note"] == f"pid {os.getpid()} is still running"
    doc["process_key"] = {**doc["process_key"], "boot_id": "0" * 16}
    path.write_text(json.dumps(doc))
    assert load(path)["status"] == "killed" and "rebooted" in load(path)["status_note"]
    doc["process_key"] = {**doc["process_key"], "host_id": "elsewhere"}
    path.write_text(json.dumps(doc))
    assert load(path)["status"] == "running" and "another machine" in load(path)["status_note"]
