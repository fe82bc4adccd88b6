"""Fixtures of the docker suite: the CLI, a usable daemon, the image (never pulled unless
--docker-pull) and the override a container needs."""

from __future__ import annotations

import pytest

from plugins.skips import skip_here
from plugins.state import run_state
from suites.docker.checks import daemon
from suites.docker.cli import DockerCLI
from suites.docker.errors import diagnose
from suites.kernel.checks import native_support


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove this run's containers left by a test child that was killed (Ctrl-C, SIGTERM,
    the time limit): only when docker tests ran, and only containers carrying this run's label."""
    if not any(item.nodeid.startswith("suites/docker/") or "/suites/docker/" in str(item.path)
               for item in session.items):
        return
    state = run_state(session.config)
    if state.profile.recorded and not session.config.getoption("live"):
        return  # the suite ran nothing on this machine
    cli = DockerCLI.find()
    if cli is not None:
        cli.remove_ours()


@pytest.fixture(scope="session")
def docker_cli(pytestconfig: pytest.Config) -> DockerCLI:
    state = run_state(pytestconfig)
    if state.profile.recorded and not pytestconfig.getoption("live"):
        skip_here("replaying a recorded machine (--sysroot): the docker suite runs containers on this machine "
                  "(add --live to run them anyway)")
    cli = DockerCLI.find()
    if cli is None:
        skip_here("the docker CLI is not on PATH")
    return cli


@pytest.fixture(scope="session")
def docker_daemon(docker_cli: DockerCLI, pytestconfig: pytest.Config) -> DockerCLI:
    """The CLI, when its daemon answers; else a skip (down) — permission problems fail in their own check."""
    version, result = docker_cli.version()
    if docker_cli.client_version:
        run_state(pytestconfig).component_versions["docker"] = docker_cli.client_version
    verdict = daemon(version, result)
    if verdict.status != "pass":
        skip_here(f"docker daemon not usable: {verdict.found}")
    return docker_cli


@pytest.fixture(scope="session")
def docker_image(docker_daemon: DockerCLI, pytestconfig: pytest.Config) -> str:
    image = pytestconfig.getoption("docker_image")
    found = docker_daemon.inspect(image)
    if found.ok:
        return image
    why = diagnose(found)
    if why is not None and why.kind != "no-image":
        skip_here(f"image {image} could not be looked up: {why.found} ({why.remedy})")
    if not pytestconfig.getoption("docker_pull"):
        skip_here(f"image {image} is not present locally: docker pull {image}, or run with --docker-pull")
    pulled = docker_daemon.run("pull", image, timeout=1800)
    if not pulled.ok:
        why = diagnose(pulled)
        detail = f"{why.found}; {why.remedy}" if why else pulled.said()
        pytest.fail(f"docker pull {image} failed: {detail}", pytrace=False)
    return image


@pytest.fixture(scope="session")
def container_override(pytestconfig: pytest.Config) -> str | None:
    """The override the host uses, or the one the arch needs when ROCm lacks its kernels."""
    state = run_state(pytestconfig)
    if state.profile.env.get("HSA_OVERRIDE_GFX_VERSION"):
        return state.profile.env["HSA_OVERRIDE_GFX_VERSION"]
    native, _ = native_support(state.profile, state.target) if state.target.gfx else (None, "")
    arch = state.target.arch
    return arch.hsa_override if native is False and arch and arch.hsa_override else None
