"""Docker checks as pure functions over CLI results and the probed host."""

from __future__ import annotations

from fixtures.parsers.properties import override_to_gfx
from fixtures.parsers.rocminfo import parse_rocminfo
from fixtures.profile import SystemProfile
from fixtures.target import Target
from fixtures.unknown import known
from fixtures.fixes import group_step
from fixtures.verdict import Verdict, failed, not_applicable, passed
from fixtures.versions import parse_version
from suites.docker.cli import Result
from suites.docker.errors import diagnose

def engine_failed(name: str, expected: str, result: Result, own_remedy: str | None = None) -> Verdict | None:
    """A failed verdict in the engine's words when the docker command itself failed, else None.

    A container whose own command exited non-zero is the engine working: with `own_remedy`
    it fails with that remedy, without it the caller reads the command's output itself.
    """
    why = diagnose(result)
    if why is None or (why.kind == "container-exit" and own_remedy is None):
        return None
    remedy = own_remedy if why.kind == "container-exit" and own_remedy else why.remedy
    return failed(name, expected, why.found, why=why.why, remedy=remedy, link=why.source)


def daemon(version: dict | None, result: Result) -> Verdict:
    name = "the docker daemon is reachable and usable by this user"
    expected = "docker version answers for client and server"
    if version and isinstance(version.get("Server"), dict):
        client = version.get("Client") if isinstance(version.get("Client"), dict) else {}
        return passed(name, expected, f"client {client.get('Version', '?')}, server {version['Server'].get('Version', '?')}")
    why = diagnose(result)
    if why is not None and why.daemon_down:
        return not_applicable(name, f"{why.found} ({why.remedy})")
    if why is not None and why.kind != "container-exit":
        fix = (group_step("docker", source="https://docs.docker.com/engine/install/linux-postinstall/"),) \
            if why.kind == "socket-permission" and why.remedy.startswith("sudo usermod") else ()
        return failed(name, expected, why.found, why=why.why, remedy=why.remedy, link=why.source, fix=fix)
    return failed(name, expected, result.said() or "no answer", remedy="run `docker version` yourself and read its error")


def run_flags(profile: SystemProfile, override: str | None) -> list[str]:
    """The flags the seed uses, with the render group by number (its name differs in images)."""
    flags = ["--device=/dev/kfd", "--device=/dev/dri", "--group-add", "video", "--security-opt", "seccomp=unconfined"]
    gids = sorted({n.gid for n in profile.device_nodes if n.exists and n.gid is not None})
    for gid in gids:
        flags += ["--group-add", str(gid)]
    if override:
        flags += ["-e", f"HSA_OVERRIDE_GFX_VERSION={override}"]
    return flags


def host_nodes(profile: SystemProfile) -> Verdict:
    name = "the host has the device nodes to pass through"
    kfd = profile.device_node("/dev/kfd")
    renders = [n.path for n in profile.render_nodes if n.exists]
    if kfd.exists and renders:
        return passed(name, "/dev/kfd and /dev/dri/renderD*", f"/dev/kfd, {', '.join(renders)}")
    return failed(name, "/dev/kfd and /dev/dri/renderD*", f"/dev/kfd {'present' if kfd.exists else 'missing'}, "
                  f"render nodes: {', '.join(renders) or 'none'}", remedy="run the kernel suite: amdgpu/KFD first")


def sees_gpu(result: Result, target: Target, override: str | None) -> Verdict:
    name = "a container with --device=/dev/kfd --device=/dev/dri sees the GPU"
    accepted = {target.gfx} | ({override_to_gfx(override)} if override else set())
    expected = f"rocminfo in the container lists a GPU agent {' or '.join(sorted(a for a in accepted if a))}"
    engine = engine_failed(name, expected, result)
    if engine:
        return engine
    gpus = [a.name for a in parse_rocminfo(result.stdout) if a.is_gpu]
    if any(g in accepted for g in gpus):
        return passed(name, expected, f"GPU agents: {', '.join(gpus)}")
    said = result.said()
    low = (result.stdout + result.stderr).lower()
    remedy = ("the container had /dev/kfd and /dev/dri: run rocminfo on the host; if it lists the GPU there, "
              "the image's ROCm may lack this GPU's kernels (HSA_OVERRIDE_GFX_VERSION, or an image for the host's ROCm)")
    if "permission denied" in low or "unable to open /dev/kfd" in low:
        remedy = "the container user lacks the device nodes' group: --group-add the render group's number (see `ls -ln /dev/kfd`)"
    elif "rocminfo" in low and "not found" in low:
        remedy = "the image has no rocminfo: use an image built on ROCm (rocm/rocm-terminal, rocm/pytorch)"
    return failed(name, expected, f"GPU agents: {', '.join(gpus) or 'none'}; rocminfo said: {said}", remedy=remedy)


def isolated(result: Result) -> Verdict:
    name = "a container without the device flags sees no /dev/kfd"
    engine = engine_failed(name, "/dev/kfd absent", result,
                           own_remedy="the image's `sh` failed: use an image with a POSIX shell")
    if engine:
        return engine
    if "absent" in result.stdout:
        return passed(name, "/dev/kfd absent", "absent")
    return failed(name, "/dev/kfd absent", result.stdout.strip()[:200] or result.said(),
                  why="a container that gets the GPU without asking means devices are passed by default "
                      "(--privileged, or a daemon default)", remedy="check /etc/docker/daemon.json and the run flags")


def rocm_matches(result: Result, profile: SystemProfile, image: str) -> Verdict:
    name = "the image's ROCm matches the host's (major.minor)"
    host = profile.rocm.version
    if not known(host):
        return not_applicable(name, f"host ROCm unknown: {host}")
    engine = engine_failed(name, f"ROCm {host} in {image}", result,
                           own_remedy="use an image built on ROCm (rocm/rocm-terminal, rocm/pytorch)")
    if engine:
        return engine
    image_version = parse_version(result.stdout.strip())
    if image_version is None:
        return failed(name, f"ROCm {host} in {image}", f"/opt/rocm/.info/version in the image: {result.said()}",
                      remedy="use an image built on ROCm (rocm/rocm-terminal, rocm/pytorch)")
    same = image_version.release[:2] == host.release[:2]  # type: ignore[union-attr]
    found = f"image ROCm {image_version}, host ROCm {host}"
    if same:
        return passed(name, "same major.minor", found)
    return failed(name, "same major.minor", found, why="user-space ROCm much newer or older than the host's driver "
                  "stack is not a supported combination", remedy=f"pick the image tag for ROCm {host}")


def override_passes(result: Result, override: str) -> Verdict:
    name = "HSA_OVERRIDE_GFX_VERSION reaches the container"
    engine = engine_failed(name, f"HSA_OVERRIDE_GFX_VERSION={override} inside", result,
                           own_remedy=f"docker run -e HSA_OVERRIDE_GFX_VERSION={override} ...")
    if engine:
        return engine
    got = result.stdout.strip()
    if got == override:
        return passed(name, f"HSA_OVERRIDE_GFX_VERSION={override} inside", got)
    return failed(name, f"HSA_OVERRIDE_GFX_VERSION={override} inside", got or result.said(),
                  remedy=f"docker run -e HSA_OVERRIDE_GFX_VERSION={override} ...")
