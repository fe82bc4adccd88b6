"""python -m reports: merge into a matrix, diff two nights, re-render, validate;
plus redaction and the per-area verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.__main__ import main
from reports.document import ReportError, area_verdict, load, upgrade
from reports.redaction import redact_text
from tests.helpers import MACHINES, REPO


@pytest.fixture(scope="module")
def machine_reports(tmp_path_factory) -> dict[str, Path]:
    """Kernel-suite reports of four recorded machines, made once for this module."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for name in ("780m-good", "780m-no-render-group", "780m-kernel-6.8", "rx7900xtx"):
        d = out / name
        subprocess.run([sys.executable, "-m", "pytest", str(REPO / "suites" / "kernel"), f"--sysroot={MACHINES / name}",
                        f"--report-dir={d}", "-q", "-p", "no:cacheprovider", "-p", "no:html"],
                       cwd=REPO, capture_output=True, text=True, check=False)
        (paths[name],) = d.glob("*.json")
    return paths


def test_merge_three_machines(machine_reports, tmp_path, capsys):
    files = [str(machine_reports[n]) for n in ("780m-good", "780m-kernel-6.8", "rx7900xtx")]
    out, md, csv = tmp_path / "matrix.html", tmp_path / "matrix.md", tmp_path / "matrix.csv"
    assert main(["merge", *files, "-o", str(out), "--markdown", str(md), "--csv", str(csv), "--checks"]) == 0
    page = out.read_text()
    assert page.count("<tr><td title=") == 3 and 'id="check-matrix"' in page and 'id="first-working"' in page
    lines = md.read_text().splitlines()
    assert len(lines) == 5 and "| kernel |" in lines[0] and "broken" in md.read_text()
    assert csv.read_text().splitlines()[0].startswith("machine,machine_id,created,kernel,rocm,torch")
    assert "3 machine x stack rows from 3 reports" in capsys.readouterr().out


def test_newer_report_of_the_same_stack_replaces_older(machine_reports, tmp_path):
    from reports.matrix import merge

    doc = load(machine_reports["780m-good"])
    newer = json.loads(json.dumps(doc))
    newer["created"] = "2099-01-01T00:00:00+0000"
    newer["areas"]["kernel"]["verdict"] = "broken"
    rows = merge([doc, newer])
    assert len(rows) == 1 and rows[0].areas["kernel"]["verdict"] == "broken"
    other_kernel = json.loads(json.dumps(doc))
    other_kernel["machine"]["summary"]["kernel"] = "6.12.0"
    assert len(merge([doc, other_kernel])) == 2  # another stack, another row


def test_first_known_working_version(machine_reports):
    from reports.matrix import first_working, merge

    rows = merge([load(machine_reports["780m-good"]), load(machine_reports["780m-kernel-6.8"])])
    fw = first_working(rows)
    assert fw[("gfx1103", "suites/kernel/test_kernel.py::test_kernel_supports_gtt_on_apu")]["kernel"] == "6.11.0-29-generic"
    assert fw[("gfx1103", "suites/kernel/test_kernel.py::test_amdgpu_driver")]["kernel"] == "6.8.0-49-generic"


def test_merge_skips_junk_and_reads_version_1(machine_reports, tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("<html>not a report</html>")
    v1 = json.loads(machine_reports["780m-good"].read_text())
    v1 = {"schema": "apu-conformance/1", "created": v1["created"], "finished": v1["finished"],
          "target": v1["target"], "machine": v1["machine"]["profile"], "summary": v1["summary"],
          "results": v1["results"]}
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v1))
    assert main(["merge", str(junk), str(old), "-o", str(tmp_path / "m.html")]) == 0
    err = capsys.readouterr().err
    assert f"skipped {junk}: not JSON" in err
    assert main(["merge", str(junk), "-o", str(tmp_path / "m.html")]) == 2


@pytest.mark.parametrize("data, words", [
    ({"x": 1}, "no 'schema' key"), ({"schema": "apu-conformance/9", "results": []}, "update this checkout"),
    ({"schema": "apu-conformance/2", "results": [1, 2]}, "not a list of test records"),
])
def test_junk_is_rejected_clearly(data, words):
    with pytest.raises(ReportError, match=words):
        upgrade(data, "x.json")


def test_diff_names_regressions_and_what_changed(machine_reports, capsys):
    rc = main(["diff", str(machine_reports["780m-good"]), str(machine_reports["780m-no-render-group"])])
    out = capsys.readouterr().out
    assert rc == 1
    assert "REGRESSION suites/kernel/test_kernel.py::test_kfd_device_usable: passed -> failed" in out
    assert "the machine did not change" in out  # same kernel, ROCm, packages: a new fault, not an update
    rc = main(["diff", str(machine_reports["780m-kernel-6.8"]), str(machine_reports["780m-good"])])
    out = capsys.readouterr().out
    assert rc == 0 and "FIXED suites/kernel/test_kernel.py::test_kernel_supports_gtt_on_apu" in out
    assert "kernel: 6.8.0-49-generic -> 6.11.0-29-generic" in out


def test_measurement_drop_is_a_regression(machine_reports):
    from reports.diff import diff_documents

    old = load(machine_reports["780m-good"])
    for doc, value in ((old, 10.0),):
        doc["results"].append({"nodeid": "suites/torch/test_throughput.py::test_matmul_throughput[float32]",
                               "area": "torch", "outcome": "passed", "measurements": {"tflops": value}})
    new = json.loads(json.dumps(old))
    new["results"][-1]["measurements"]["tflops"] = 8.5
    diff = diff_documents(old, new)
    assert diff["regressions"][0]["measurement"] == "tflops" and diff["regressions"][0]["change"] == -0.15
    new["results"][-1]["measurements"]["tflops"] = 9.5
    assert diff_documents(old, new)["regressions"] == []


def test_horizon_command(machine_reports, tmp_path, capsys):
    """The knowledge horizon alone, and beside what a report's run had installed (newer marked)."""
    assert main(["horizon"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("kernel", "rocm", "torch", "transformers", "onnxruntime", "ollama", "docker"))
    doc = json.loads(machine_reports["780m-good"].read_text())
    doc["horizon"] = [{"component": "kernel", "checked_against": "7.1", "released": "2026-06",
                       "checked_on": "2026-12-07", "installed": "7.3.2", "newer": True}]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc))
    assert main(["horizon", str(newer)]) == 0
    assert "7.3.2 (newer: verdicts resting on it carry a caveat)" in capsys.readouterr().out
    del doc["horizon"]
    newer.write_text(json.dumps(doc))
    assert main(["horizon", str(newer)]) == 2
    assert "has no horizon" in capsys.readouterr().err


def test_html_and_validate_commands(machine_reports, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["html", str(machine_reports["780m-no-render-group"]), "-o", str(out)]) == 0
    assert "usermod -aG render" in out.read_text()
    pytest.importorskip("jsonschema")
    assert main(["validate", *map(str, machine_reports.values())]) == 0
    bad = tmp_path / "bad.json"
    doc = json.loads(machine_reports["780m-good"].read_text())
    doc["status"] = "fine"
    bad.write_text(json.dumps(doc))
    assert main(["validate", str(bad)]) == 1
    assert "status: 'fine' is not one of" in capsys.readouterr().out


@pytest.mark.parametrize("text, expected", [
    ("link 00:1a:2b:3c:4d:5e up", "link <mac> up"),
    ("from 192.168.1.20 port", "from <ip> port"),
    ("ROCm 6.2.4-120 and 10.3.0", "ROCm 6.2.4-120 and 10.3.0"),
    ("/home/alice/models/x.gguf", "/home/<user>/models/x.gguf"),
    ("id=GPU-b3d5d3574c66244c", "id=GPU-<serial>"),
    ("root=UUID=d55f0c3f-88f5-4c65-a93a-285c1a30361c ro", "root=UUID=<uuid> ro"),
    ("on myhost-7 as bob42", "on <redacted> as <redacted>"),
])
def test_redaction(text, expected):
    assert redact_text(text, ("myhost-7", "bob42")) == expected


def test_area_verdicts():
    rec = lambda outcome, **kw: {"nodeid": f"t::{outcome}", "outcome": outcome, "message": "m", **kw}  # noqa: E731
    assert area_verdict([rec("passed"), rec("skipped")])["verdict"] == "works"
    assert area_verdict([rec("passed"), rec("failed")])["verdict"] == "broken"
    assert area_verdict([rec("passed"), rec("crashed")])["verdict"] == "broken"
    caveat = area_verdict([rec("passed"), rec("xfailed", known_issue={"id": "ollama-5471"})])
    assert caveat["verdict"] == "works with caveats" and "ollama-5471" in caveat["reason"]
    assert area_verdict([rec("skipped")])["verdict"] == "not applicable"
