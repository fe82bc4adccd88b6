"""Fixtures of the docker suite: the CLI, a usable daemon, the image (never pulled unless
--docker-pull) and the override a container needs."""

from __future__ import annotations

import pytest

from plugins.skips import skip_here
from plugins.state import run_state
from suites.docker.checks import daemon
from suites.docker.cli import DockerCLI
from suites.kernel.checks import native_support


@pytest.fixture(scope="session")
def docker_cli(pytestconfig: pytest.Config) -> DockerCLI:
    state = run_state(pytestconfig)
    if state.profile.recorded and not pytestconfig.getoption("live"):
        skip_here(f"replaying {state.profile.description}: the docker suite runs containers on this machine "
                  "(add --live to run them anyway)")
    cli = DockerCLI.find()
    if cli is None:
        skip_here("the docker CLI is not on PATH")
    return cli


@pytest.fixture(scope="session")
def docker_daemon(docker_cli: DockerCLI, pytestconfig: pytest.Config) -> DockerCLI:
    """The CLI, when its daemon answers; else a skip (down) — permission problems fail in their own check."""
    version, result = docker_cli.version()
    client = (version or {}).get("Client") if isinstance((version or {}).get("Client"), dict) else None
    if client and isinstance(client.get("Version"), str):
        run_state(pytestconfig).component_versions["docker"] = client["Version"]
    verdict = daemon(version, result)
    if verdict.status != "pass":
        skip_here(f"docker daemon not usable: {verdict.found}")
    return docker_cli


@pytest.fixture(scope="session")
def docker_image(docker_daemon: DockerCLI, pytestconfig: pytest.Config) -> str:
    image = pytestconfig.getoption("docker_image")
    if not docker_daemon.has_image(image):
        if not pytestconfig.getoption("docker_pull"):
            skip_here(f"image {image} is not present locally: docker pull {image}, or run with --docker-pull")
        pulled = docker_daemon.run("pull", image, timeout=1800)
        if not pulled.ok:
            pytest.fail(f"docker pull {image} failed: {pulled.said()}", pytrace=False)
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
