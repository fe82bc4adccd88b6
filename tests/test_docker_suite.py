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


# Each daemon/CLI error as Docker prints it (the engine's words from the reports cited in
# suites/docker/errors.py, and from Docker 20.10/28 run here) -> its kind and the remedy's start.
ENGINE_WORDS = [
    ('docker: Error response from daemon: error gathering device information while adding custom device "/dev/kfd": '
     "no such file or directory.\nSee 'docker run --help'.", 125, "missing-device",
     "/dev/kfd does not exist on the host the docker daemon runs on"),
    ('permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get '
     '"http://%2Fvar%2Frun%2Fdocker.sock/v1.47/version": dial unix /var/run/docker.sock: connect: permission denied',
     1, "socket-permission", "sudo usermod -aG docker $USER"),
    ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", 1,
     "daemon-down", "sudo systemctl start docker"),
    ('error during connect: Get "http://docker.example:2375/v1.47/version": dial tcp 10.0.0.9:2375: connect: '
     "connection refused", 1, "daemon-down", "sudo systemctl start docker"),
    ("Error response from daemon: client version 1.43 is too new. Maximum supported API version is 1.41", 1,
     "api-too-new", "unset DOCKER_API_VERSION"),
    ("Error response from daemon: client version 1.43 is too old. Minimum supported API version is 1.44, please "
     "upgrade your client to a newer version", 1, "api-too-old", "upgrade the docker CLI"),
    ("unknown flag: --pull\nSee 'docker run --help'.", 125, "unknown-flag", "this docker CLI (docker) does not know --pull"),
    ("docker: Error response from daemon: No such image: rocm/rocm-terminal:latest.", 125, "no-image",
     "docker pull rocm/rocm-terminal:latest, or run the suite with --docker-pull"),
    ("Error response from daemon: pull access denied for rocm_gpu, repository does not exist or may require "
     "'docker login': denied: requested access to the resource is denied", 1, "pull-failed",
     "check the image name and tag given to --docker-image"),
    ('Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
     "10.255.255.53:53: no such host", 1, "registry-unreachable", "the docker daemon cannot reach the registry"),
    ("Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting "
     "for connection (Client.Timeout exceeded while awaiting headers)", 1, "registry-unreachable",
     "the docker daemon cannot reach the registry https://registry-1.docker.io"),
    ('docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: '
     'unable to start container process: exec: "rocminfo": executable file not found in $PATH: unknown.', 127,
     "no-command", "the image has no rocminfo"),
    ('Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.51/containers/json": context deadline exceeded', 1,
     "daemon-timeout", "the daemon takes the connection but does not answer in time"),
    ("docker: Error response from daemon: Conflict. The container name is already in use.", 125, "engine-refused",
     "run `docker run --rm IMG true` yourself"),
    ("sh: rocminfo: not found", 127, "container-exit", "the engine ran the container"),
]


@pytest.mark.parametrize(("words", "rc", "kind", "remedy"), ENGINE_WORDS, ids=[w[2] for w in ENGINE_WORDS])
def test_each_engine_error_has_its_own_diagnosis(words, rc, kind, remedy):
    from fixtures.machine import CommandResult
    from suites.docker.errors import diagnose

    why = diagnose(CommandResult(("docker", "run", "--rm", "IMG", "true"), rc, "", words + "\n"))
    assert why is not None and why.kind == kind and why.remedy.startswith(remedy), why
    first = words.splitlines()[0].removeprefix("docker: ")
    assert first in why.found or kind == "container-exit"


def test_container_checks_use_the_diagnosis(recorded):
    """The device missing on the docker host is not "pass the flags"; a timeout is not "read the error"."""
    from fixtures.machine import CommandResult
    from fixtures.target import resolve_target
    from suites.docker import checks

    missing = CommandResult(("docker", "run"), 125, "", 'docker: Error response from daemon: error gathering device '
                            'information while adding custom device "/dev/kfd": no such file or directory.\n')
    target = resolve_target("auto", recorded("780m-good"))
    for verdict in (checks.sees_gpu(missing, target, None), checks.override_passes(missing, "11.0.0"),
                    checks.isolated(missing), checks.rocm_matches(missing, recorded("780m-good"), "img")):
        assert verdict.status == "fail" and "does not exist on the host the docker daemon runs on" in verdict.remedy
        assert "pass --device" not in verdict.remedy and verdict.link.startswith("https://github.com/")
    hung = CommandResult(("docker", "version"), None, error="`docker version --format` did not finish in 30 s")
    verdict = checks.daemon(None, hung)
    assert verdict.status == "fail" and verdict.found == "no answer: `docker version --format` did not finish in 30 s"
    assert "journalctl -u docker" in verdict.remedy
    stuck = CommandResult(("docker", "run", "--rm"), None, error="`docker run --rm` did not finish in 120 s")
    verdict = checks.rocm_matches(stuck, recorded("780m-good"), "img")
    assert verdict.status == "fail" and "`docker ps` shows whether the container is up" in verdict.remedy
