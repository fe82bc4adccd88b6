"""suites/docker against a real, private Docker engine (tests/docker_engine.py): the engine's
own words for each failure, diagnosed with its own found and remedy, and no trace left
(no container, no image touched, nothing pulled) after a run that passed, failed or was
interrupted.  Skips, saying why, where dockerd cannot start; the fake-docker tests
(tests/test_docker_suite.py) cover what this host's engine cannot do (a GPU inside).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.machine import CommandResult
from suites.docker import checks
from suites.docker.cli import DockerCLI
from suites.docker.errors import diagnose
from tests.docker_engine import Engine, Unavailable, start_engine
from tests.helpers import MACHINES, REPO, load_report

GOOD = MACHINES / "780m-good"
MISSING_KFD = 'error gathering device information while adding custom device "/dev/kfd": no such file or directory'


@pytest.fixture(scope="session")
def engine() -> Engine:
    """One private daemon per self-test process (each xdist worker starts its own)."""
    try:
        started = start_engine()
    except Unavailable as why:
        pytest.skip(f"no private docker engine: {why}")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def docker(engine: Engine, monkeypatch: pytest.MonkeyPatch, record_property) -> Engine:
    """The engine with DOCKER_HOST set for this test, checked clean before and after."""
    record_property("docker_engine", engine.version)
    for name in ("DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    engine.clean()
    before = engine.images()
    yield engine
    assert engine.images() == before  # the suite never tags, removes or pulls an image
    engine.clean()


def run_suite(pytester: pytest.Pytester, image: str, *args: str, sysroot: Path | None = GOOD) -> dict:
    reports = pytester.path / "reports"
    where = [f"--sysroot={sysroot}", "--live"] if sysroot else []
    result = pytester.runpytest_inprocess(str(REPO / "suites" / "docker"), *where, f"--docker-image={image}",
                                          f"--report-dir={reports}", "-p", "no:cacheprovider", *args)
    out = result.stdout.str()
    assert "Traceback" not in out and "INTERNALERROR" not in out, out[-3000:]
    doc = load_report(reports)
    return {r["nodeid"].split("::")[-1]: r for r in doc["results"]} | {"_doc": doc}


def no_trace(engine: Engine, since: float, pulled_ok: bool = False) -> list[dict]:
    """No container left; every container the run created was destroyed; nothing pulled."""
    assert engine.containers() == []
    events = engine.events(since)
    created = {e["Actor"]["Attributes"].get("name") for e in events if e.get("Type") == "container"
               and e.get("Action") == "create"}
    destroyed = {e["Actor"]["Attributes"].get("name") for e in events if e.get("Type") == "container"
                 and e.get("Action") == "destroy"}
    assert created == destroyed, (created, destroyed)
    if not pulled_ok:
        assert not [e for e in events if e.get("Type") == "image" and e.get("Action") in ("pull", "delete", "untag",
                                                                                           "tag", "import")]
    return events


def test_gpu_less_host_usable_daemon_and_no_trace(pytester, docker):
    """As a new user would run it here: the daemon is usable, the GPU checks skip, nothing is left."""
    since = time.time()
    got = run_suite(pytester, "local/apu-rocm:6.2", sysroot=None)
    assert got["test_daemon_usable"]["outcome"] == "passed"
    assert f"server {docker.version}" in got["test_daemon_usable"]["verdict"]["found"]
    assert {got[k]["outcome"] for k in got if k not in ("_doc", "test_daemon_usable")} == {"skipped"}
    no_trace(docker, since)


def test_missing_host_device_is_diagnosed_from_the_engine(pytester, docker):
    """The recorded 780M has /dev/kfd, this host has not: the engine refuses the device, and
    the remedy says so instead of asking for flags that were passed."""
    since = time.time()
    got = run_suite(pytester, "local/apu-rocm:6.2")
    outcome = {k: v["outcome"] for k, v in got.items() if k != "_doc"}
    assert outcome == {"test_daemon_usable": "passed", "test_host_device_nodes": "passed",
                       "test_container_sees_gpu": "failed", "test_container_without_flags_sees_no_gpu": "passed",
                       "test_image_rocm_matches_host": "passed", "test_override_reaches_container": "failed"}
    for name in ("test_container_sees_gpu", "test_override_reaches_container"):
        verdict = got[name]["verdict"]
        assert MISSING_KFD in verdict["found"] and verdict["found"].startswith("the engine says: Error response")
        assert "/dev/kfd does not exist on the host the docker daemon runs on" in verdict["remedy"]
        assert "pass --device" not in verdict["remedy"]
    events = no_trace(docker, since)
    assert sum(e.get("Action") == "create" for e in events) == 4  # four containers, each removed


def test_mismatched_rocm_in_a_real_image(pytester, docker):
    got = run_suite(pytester, "local/apu-rocm:6.4", "-k", "rocm_matches or isolated or without_flags")
    assert got["test_image_rocm_matches_host"]["outcome"] == "failed"
    assert got["test_image_rocm_matches_host"]["verdict"]["found"] == "image ROCm 6.4.1, host ROCm 6.2.4"
    assert got["test_container_without_flags_sees_no_gpu"]["outcome"] == "passed"


def test_container_exiting_non_zero_for_its_own_reasons(pytester, docker):
    """An image without /opt/rocm: the engine ran the container, `cat` inside it failed."""
    got = run_suite(pytester, "local/apu-norocm:1", "-k", "rocm_matches")
    verdict = got["test_image_rocm_matches_host"]["verdict"]
    assert got["test_image_rocm_matches_host"]["outcome"] == "failed"
    assert verdict["found"].startswith("`cat /opt/rocm/.info/version` exited 1 inside the container: cat: can't open")
    assert verdict["remedy"] == "use an image built on ROCm (rocm/rocm-terminal, rocm/pytorch)"


def test_absent_image_is_never_pulled(pytester, docker):
    since = time.time()
    got = run_suite(pytester, "local/not-here:1")
    assert got["test_container_sees_gpu"]["outcome"] == "skipped"
    assert "image local/not-here:1 is not present locally: docker pull local/not-here:1, or run with --docker-pull" \
        in got["test_container_sees_gpu"]["message"]
    no_trace(docker, since)
    # and `docker run` itself, asked for an absent image, does not pull either (--pull=never)
    cli = DockerCLI.find()
    assert cli is not None and cli.version()[0] is not None
    result = cli.container("local/not-here:1", [], ["true"])
    why = diagnose(result)
    assert why is not None and why.kind == "no-image", result
    assert "No such image: local/not-here:1" in why.found
    assert why.remedy == "docker pull local/not-here:1, or run the suite with --docker-pull (it never pulls on its own)"
    no_trace(docker, since)


def test_pull_only_when_asked_and_unreachable_registry_diagnosed(pytester, docker):
    """With --docker-pull the daemon tries the one image (a registry that cannot answer: localhost:1)
    and the failure names the registry and the daemon's proxy, and nothing is added."""
    since = time.time()
    got = run_suite(pytester, "localhost:1/apu/not-here:1", "--docker-pull", "-k", "rocm_matches or daemon_usable")
    result = got["test_image_rocm_matches_host"]
    assert result["outcome"] in ("failed", "error"), result
    assert 'docker pull localhost:1/apu/not-here:1 failed: the engine says: Error response from daemon: Get ' \
           '"http://localhost:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused' in result["message"]
    assert "the docker daemon cannot reach the registry http://localhost:1 (offline, DNS, a proxy)" in result["message"]
    no_trace(docker, since)


def daemon_verdict(exe: str | None = None) -> checks.Verdict:
    """The suite's daemon check on the real CLI's answer (as `test_daemon_usable` runs it)."""
    cli = DockerCLI(exe) if exe else DockerCLI.find()
    assert cli is not None
    return checks.daemon(*cli.version())


def test_daemon_not_running(docker, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    verdict = daemon_verdict()
    assert verdict.status == "n/a"  # no daemon is not this machine failing: the docker checks skip
    assert verdict.found.startswith(f"no docker daemon: Cannot connect to the Docker daemon at "
                                    f"unix://{tmp_path}/dead.sock. Is the docker daemon running? (sudo systemctl "
                                    "start docker, or point DOCKER_HOST at the socket")


def test_socket_permission_denied(docker, tmp_path):
    """The docker CLI run as `nobody` against the root-only socket."""
    setpriv = "/usr/bin/setpriv"
    if not os.path.exists(setpriv):
        pytest.skip("setpriv (util-linux) is needed to run the CLI as another user")
    shim = tmp_path / "docker"
    shim.write_text(f"#!/bin/sh\nexec {setpriv} --reuid=65534 --regid=65534 --clear-groups {docker.cli} \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    verdict = daemon_verdict(str(shim))
    assert verdict.status == "fail"
    assert verdict.found.startswith(f"the docker CLI says: permission denied while trying to connect to the "
                                    f"Docker daemon socket at {docker.host}: ")
    assert verdict.remedy.startswith(f"this user may not open {docker.host}: ask its owner")


def test_api_version_the_daemon_does_not_speak(docker, monkeypatch):
    monkeypatch.setenv("DOCKER_API_VERSION", "1.99")
    verdict = daemon_verdict()
    assert verdict.status == "fail"
    assert "Error response from daemon: client version 1.99 is too new. Maximum supported API version is" \
        in verdict.found
    assert verdict.remedy.startswith("unset DOCKER_API_VERSION (the CLI then agrees on a version with the daemon")
    monkeypatch.setenv("DOCKER_API_VERSION", "1.10")
    verdict = daemon_verdict()
    assert verdict.status == "fail"
    assert "Error response from daemon: client version 1.10 is too old. Minimum supported API version is" \
        in verdict.found
    assert verdict.remedy.startswith("upgrade the docker CLI")


def test_unknown_flag_is_the_clis(docker):
    cli = DockerCLI.find()
    assert cli is not None
    result = cli.container("local/apu-rocm:6.2", ["--no-such-flag"], ["true"])
    verdict = checks.isolated(result)
    assert verdict.status == "fail" and verdict.found == "the docker CLI says: unknown flag: --no-such-flag"
    assert "does not know --no-such-flag: upgrade it" in verdict.remedy


def test_engine_unavailable_says_why(monkeypatch, tmp_path):
    """Where dockerd cannot start, the real-engine tests skip with the reason."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(Unavailable, match=r"dockerd or the docker CLI is not installed \(apt-get install docker.io\)"):
        start_engine(tmp_path)
    monkeypatch.undo()
    if shutil.which("dockerd") and shutil.which("docker"):
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
        with pytest.raises(Unavailable, match="a private dockerd needs root here"):
            start_engine(tmp_path)


def test_command_missing_in_the_image(docker):
    cli = DockerCLI.find()
    assert cli is not None and cli.version()[0] is not None
    why = diagnose(cli.container("local/apu-rocm:6.2", [], ["/opt/rocm/bin/rocminfo"]))
    assert why is not None and why.kind == "no-command"
    assert 'exec: "/opt/rocm/bin/rocminfo": stat /opt/rocm/bin/rocminfo: no such file or directory' in why.found
    assert why.remedy.startswith("the image has no /opt/rocm/bin/rocminfo")


def test_daemon_that_does_not_answer(docker):
    """dockerd stopped with SIGSTOP: the socket takes connections, nothing answers."""
    cli = DockerCLI.find()
    assert cli is not None
    cli.timeout = 2
    os.kill(docker.proc.pid, signal.SIGSTOP)
    try:
        version, result = cli.version()
    finally:
        os.kill(docker.proc.pid, signal.SIGCONT)
    verdict = checks.daemon(version, result)
    assert verdict.status == "fail"
    assert verdict.found == "no answer: `docker version --format` did not finish in 2 s"
    assert "does not answer in time" in verdict.remedy and "journalctl -u docker" in verdict.remedy


@pytest.mark.parametrize(("sig", "group", "isolation"), [
    (signal.SIGINT, False, "auto"), (signal.SIGINT, True, "auto"), (signal.SIGTERM, False, "auto"),
    (signal.SIGINT, False, "all"), (signal.SIGINT, True, "all")],
    ids=["sigint", "sigint-whole-group", "sigterm", "sigint-forked-child", "sigint-whole-group-forked-child"])
def test_interrupted_run_leaves_no_container(docker, tmp_path, sig, group, isolation):
    """SIGINT while a container runs (`cat` blocks on a FIFO in local/apu-hang:1), to pytest
    alone or to its whole process group as Ctrl-C in a terminal sends it (the docker CLI gets
    it too), or SIGTERM as `timeout` and CI send it; with --isolation=all the test runs in a
    forked child that the run kills, so only the end-of-run sweep of this run's labelled
    containers can remove it.  The run ends interrupted, the container is gone."""
    since = time.time()
    reports = tmp_path / "reports"
    env = docker.env()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "suites/docker", f"--sysroot={GOOD}", "--live",
                             "--docker-image=local/apu-hang:1", f"--report-dir={reports}", "-p", "no:cacheprovider",
                             "-k", "rocm_matches", f"--isolation={isolation}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a loaded CI machine starts pytest slowly
        while not any(" Up " in f" {c} " for c in docker.containers()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode() if proc.stdout else ""
            time.sleep(0.2)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, out.decode()[-2000:]  # pytest's "interrupted"
    assert load_report(reports)["status"] == "interrupted"
    no_trace(docker, since)
