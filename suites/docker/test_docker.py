"""Does a ROCm container get the GPU with the device flags, and only with them?"""

from __future__ import annotations

import pytest

from fixtures.verdict import not_applicable
from suites.docker import checks

pytestmark = [pytest.mark.requires("docker"), pytest.mark.level("standard")]
ROCMINFO = ["sh", "-c", "/opt/rocm/bin/rocminfo 2>&1 || rocminfo 2>&1"]


def test_daemon_usable(docker_cli, check):
    """the docker daemon is reachable and usable by this user."""
    check(checks.daemon(*docker_cli.version()))


@pytest.mark.requires("amd_gpu")
def test_host_device_nodes(docker_cli, system, check):
    """the host has the device nodes to pass through."""
    check(checks.host_nodes(system))


@pytest.mark.requires("amd_gpu")
def test_container_sees_gpu(docker_daemon, docker_image, system, target, container_override, check):
    """a container with --device=/dev/kfd --device=/dev/dri sees the GPU."""
    result = docker_daemon.container(docker_image, checks.run_flags(system, container_override), ROCMINFO)
    check(checks.sees_gpu(result, target, container_override))


@pytest.mark.requires("amd_gpu")
def test_container_without_flags_sees_no_gpu(docker_daemon, docker_image, check):
    """a container without the device flags sees no /dev/kfd."""
    result = docker_daemon.container(docker_image, [], ["sh", "-c", "test -e /dev/kfd && echo present || echo absent"])
    check(checks.isolated(result))


@pytest.mark.requires("amd_gpu")
def test_image_rocm_matches_host(docker_daemon, docker_image, system, check):
    """the image's ROCm matches the host's (major.minor)."""
    result = docker_daemon.container(docker_image, [], ["cat", "/opt/rocm/.info/version"])
    check(checks.rocm_matches(result, system, docker_image))


@pytest.mark.requires("amd_gpu")
def test_override_reaches_container(docker_daemon, docker_image, system, container_override, check):
    """HSA_OVERRIDE_GFX_VERSION reaches the container."""
    if not container_override:
        return check(not_applicable("HSA_OVERRIDE_GFX_VERSION reaches the container",
                                    "this GPU needs no override with the host's ROCm"))
    result = docker_daemon.container(docker_image, checks.run_flags(system, container_override),
                                     ["printenv", "HSA_OVERRIDE_GFX_VERSION"])
    check(checks.override_passes(result, container_override))
