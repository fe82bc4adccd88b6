"""suites/docker against a fake `docker` replaying recorded outputs (tests/data/docker):
daemon down, permission denied, no devices in the container, mismatched ROCm, success."""

from __future__ import annotations

import os

import pytest

from tests.helpers import MACHINES, REPO, load_report


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, scenario: str, *args: str) -> dict:
    monkeypatch.setenv("PATH", f"{REPO / 'tests' / 'fake_bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_SCENARIO", scenario)
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(pytester.path / "docker.log"))
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(REPO / "suites" / "docker"), f"--sysroot={MACHINES / '780m-good'}",
                                          "--live", f"--report-dir={reports}", "-p", "no:cacheprovider", *args)
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
    doc = load_report(reports)
    if scenario == "success":
        assert doc["versions"]["docker"] == "28.2.2"
    return {r["nodeid"].split("::")[-1]: r for r in doc["results"]}


def outcomes(results: dict) -> dict[str, str]:
    return {k: v["outcome"] for k, v in results.items()}


def test_success(pytester, monkeypatch):
    got = run(pytester, monkeypatch, "success")
    assert set(outcomes(got).values()) == {"passed"}, outcomes(got)
    assert "GPU agents: gfx1103" in got["test_container_sees_gpu"]["verdict"]["found"]
    log = (pytester.path / "docker.log").read_text().splitlines()
    runs = [l.split("--name ")[1].split()[0] for l in log if l.startswith("run ")]
    removed = [l.split()[-1] for l in log if l.startswith("rm -f")]
    assert runs and sorted(runs) == sorted(removed)  # every container removed afterwards
    flagged = next(l for l in log if "rocminfo" in l)
    assert "--group-add 992" in flagged and "-e HSA_OVERRIDE_GFX_VERSION=11.0.0" in flagged  # render gid, override


def test_daemon_down_skips_with_reason(pytester, monkeypatch):
    got = run(pytester, monkeypatch, "daemon-down")
    assert {k for k, v in outcomes(got).items() if v != "skipped"} == {"test_host_device_nodes"}
    assert "Is the docker daemon running?" in got["test_daemon_usable"]["message"]


def test_permission_denied_is_explained(pytester, monkeypatch):
    got = run(pytester, monkeypatch, "permission-denied")
    assert got["test_daemon_usable"]["outcome"] == "failed"
    assert "usermod -aG docker" in got["test_daemon_usable"]["verdict"]["remedy"]
    assert got["test_container_sees_gpu"]["outcome"] == "skipped"


def test_no_devices_in_container(pytester, monkeypatch):
    got = outcomes(run(pytester, monkeypatch, "no-devices"))
    assert got["test_container_sees_gpu"] == "failed" and got["test_container_without_flags_sees_no_gpu"] == "failed"
    assert got["test_image_rocm_matches_host"] == "passed"


def test_mismatched_rocm(pytester, monkeypatch):
    got = run(pytester, monkeypatch, "mismatched-rocm")
    assert {k for k, v in outcomes(got).items() if v == "failed"} == {"test_image_rocm_matches_host"}
    assert "image ROCm 6.4.1, host ROCm 6.2.4" in got["test_image_rocm_matches_host"]["verdict"]["found"]


def test_missing_image_is_never_pulled_silently(pytester, monkeypatch):
    got = run(pytester, monkeypatch, "no-image")
    assert "is not present locally: docker pull rocm/rocm-terminal" in got["test_container_sees_gpu"]["message"]
    assert not any(l.startswith("pull") for l in (pytester.path / "docker.log").read_text().splitlines())


def test_checks_fail_where_they_should(recorded):
    from fixtures.machine import CommandResult
    from fixtures.target import resolve_target
    from suites.docker import checks

    assert checks.host_nodes(recorded("no-amd-gpu")).status == "fail"
    odd = checks.daemon(None, CommandResult(("docker",), 1, "", "error during connect: context deadline exceeded"))
    assert odd.status == "fail" and "context deadline exceeded" in odd.found
    junk = checks.rocm_matches(CommandResult(("docker",), 0, "not a version\n"), recorded("780m-good"), "img")
    assert junk.status == "fail" and "not a version" in junk.found
    assert checks.override_passes(CommandResult(("docker",), 0, "\n"), "11.0.0").status == "fail"
    denied = checks.sees_gpu(CommandResult(("docker",), 1, "Unable to open /dev/kfd read-write: Permission denied\n"),
                             resolve_target("auto", recorded("780m-good")), None)
    assert denied.status == "fail" and "render group's number" in denied.remedy
