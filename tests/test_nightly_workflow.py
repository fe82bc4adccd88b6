"""The nightly workflow publishes the matrix: after the per-runner jobs, a job that runs
even when a runner failed downloads every runner's report, merges them with
`python -m reports merge` into HTML and Markdown, and uploads the result (and a Pages
artifact, deployed only where the repository opted in).  actionlint cannot be installed
offline here, so the job graph is checked from the YAML, and the merge step's own shell
is run on two recorded machines' reports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MACHINES, REPO

yaml = pytest.importorskip("yaml")
WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"


@pytest.fixture(scope="module")
def jobs() -> dict:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict) and isinstance(doc.get("jobs"), dict), f"{WORKFLOW} has no jobs"
    return doc["jobs"]


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def runner_jobs(jobs: dict) -> dict[str, dict]:
    """The jobs that run the suite on a machine: they upload an `apu-report-…` artifact."""
    return {name: job for name, job in jobs.items()
            if any(str(s.get("with", {}).get("name", "")).startswith("apu-report-")
                   for s in uses(job, "actions/upload-artifact"))}


def needs(job: dict) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def merge_job(jobs: dict) -> tuple[str, dict]:
    found = [(n, j) for n, j in jobs.items() if any("python -m reports merge" in str(s.get("run", ""))
                                                      for s in j.get("steps", []))]
    assert len(found) == 1, f"expected one job running `python -m reports merge`, found {[n for n, _ in found]}"
    return found[0]


def merge_step(job: dict) -> dict:
    return next(s for s in job["steps"] if "python -m reports merge" in str(s.get("run", "")))


def test_runner_jobs_upload_reports_and_fix_plans_always(jobs):
    runners = runner_jobs(jobs)
    assert runners, "no job uploads an apu-report-* artifact"
    for job in runners.values():
        (upload,) = [s for s in uses(job, "actions/upload-artifact") if "apu-report-" in str(s["with"]["name"])]
        assert upload.get("if") == "always()"
        assert "reports/apu-*.json" in upload["with"]["path"] and "reports/apu-*-fix.sh" in upload["with"]["path"]


def test_merge_job_needs_every_runner_runs_always_downloads_merges_uploads(jobs):
    name, job = merge_job(jobs)
    assert needs(job) >= set(runner_jobs(jobs)), f"{name} must wait for every runner job"
    assert "always()" in str(job.get("if", "")), f"{name} must run when a runner failed"
    assert "self-hosted" not in str(job.get("runs-on")), "merging needs no GPU runner"
    steps = job["steps"]
    (download,) = uses(job, "actions/download-artifact")
    pattern = download["with"]["pattern"]
    assert all(Path(str(s["with"]["name"]).replace("${{ matrix.arch }}", "gfx1103")).match(pattern)
               for j in runner_jobs(jobs).values() for s in uses(j, "actions/upload-artifact"))
    run = merge_step(job)["run"]
    assert "--markdown" in run and "-o site/index.html" in run
    order = [steps.index(s) for s in (download, merge_step(job))]
    upload = [s for s in uses(job, "actions/upload-artifact") if s["with"]["path"].rstrip("/") == "site"]
    pages = uses(job, "actions/upload-pages-artifact")
    assert upload and pages, "the matrix is uploaded as an artifact and as a Pages artifact"
    assert order[0] < order[1] < steps.index(upload[0]) < steps.index(pages[0])
    assert uses(job, "actions/checkout"), "python -m reports runs from the checkout"


def test_pages_deploy_is_guarded_for_forks(jobs):
    name, _ = merge_job(jobs)
    deploy = [(n, j) for n, j in jobs.items() if uses(j, "actions/deploy-pages")]
    assert len(deploy) == 1
    _, job = deploy[0]
    assert needs(job) == {name}
    assert "vars.PUBLISH_PAGES == 'true'" in job["if"] and f"needs.{name}.result == 'success'" in job["if"]
    assert job["permissions"] == {"pages": "write", "id-token": "write"}
    assert job["environment"]["name"] == "github-pages"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_merge_step_shell_merges_two_runners_reports(jobs, pytester, tmp_path):
    """The step's own script, with two runners' reports where download-artifact puts them."""
    for arch, machine in (("gfx1103", "780m-no-render-group"), ("gfx1100", "rx7900xtx")):
        out = tmp_path / "runner-reports" / f"apu-report-{arch}"
        pytester.runpytest_inprocess(str(REPO / "suites" / "kernel"), f"--sysroot={MACHINES / machine}",
                                     f"--report-dir={out}")
        assert list(out.glob("apu-*.json")) and list(out.glob("apu-*-fix.sh"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "GITHUB_STEP_SUMMARY": str(summary)}
    _, job = merge_job(jobs)
    result = subprocess.run(["bash", "-e", "-c", merge_step(job)["run"]], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    markdown = (tmp_path / "site" / "matrix.md").read_text()
    assert "gfx1103" in page and "gfx1100" in page
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and "broken" in rows[1] + rows[2]  # header, two machines; the 780M's kernel fails
    assert summary.read_text() == markdown


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_merge_step_says_so_when_no_runner_uploaded(jobs, tmp_path):
    _, job = merge_job(jobs)
    result = subprocess.run(["bash", "-e", "-c", merge_step(job)["run"]], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert result.returncode == 1 and "no runner uploaded a report" in result.stdout


def test_actionlint_knows_every_runner_label(jobs):
    """actionlint flags custom runner labels it was not told about (.github/actionlint.yaml)."""
    config = yaml.safe_load((REPO / ".github" / "actionlint.yaml").read_text())
    known = set(config["self-hosted-runner"]["labels"])
    for job in runner_jobs(jobs).values():
        archs = set(job.get("strategy", {}).get("matrix", {}).get("arch", []))
        assert archs and archs <= known, f"add {sorted(archs - known)} to .github/actionlint.yaml"
