"""What went wrong with a `docker` command, read from the engine's (or the CLI's) own words.

A failed `docker run` has many causes that need different fixes: the device node is
missing on the docker host (passing `--device` again will not help), the socket is not
this user's, the daemon is down or hangs, the image is not there, the CLI and the daemon
speak different API versions, the CLI lacks a flag, or the engine was fine and the
command inside the container failed.  Each cause is a `Diagnosis` with its own "found"
and remedy; the messages are the ones Docker prints (seen on Docker 20.10 and 28 against
a real engine, and in the reports linked as `source`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from suites.docker.cli import Result

ROOTLESS_SOCKET = "unix://$XDG_RUNTIME_DIR/docker.sock"


@dataclass(frozen=True)
class Diagnosis:
    """One cause of a failed docker command: `kind` names it, `found` quotes the engine."""

    kind: str
    found: str
    remedy: str
    why: str = ""
    source: str = ""

    @property
    def daemon_down(self) -> bool:
        """No daemon answers: not a failure of this machine, the checks that need one skip."""
        return self.kind == "daemon-down"


def _words(result: Result) -> str:
    return "\n".join(part for part in (result.error or "", result.stderr, result.stdout) if part)


def _line(text: str, match: re.Match[str]) -> str:
    """The whole line the match is on, without docker's `docker: ` prefix: the engine's words."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start:end if end >= 0 else None].strip()
    return line.removeprefix("docker: ")[:300]


def _command(result: Result) -> str:
    return shlex.join(("docker", *result.argv[1:]))


def _missing_device(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    node = m.group(1)
    return Diagnosis(
        "missing-device", f"the engine says: {_line(text, m)}",
        f"{node} does not exist on the host the docker daemon runs on (amdgpu/KFD not loaded, a VM or WSL, "
        f"a container inside a container, or DOCKER_HOST names another machine): check `ls -l {node}` there "
        "and run the kernel suite on it; the --device flags are already passed and passing them again will "
        "not help",
        why="docker can only pass through device nodes the daemon's host has",
        source="https://github.com/ROCm/TheRock/issues/2573")


def _socket_denied(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    socket = m.group(1)
    own = socket in ("unix:///var/run/docker.sock", "unix:///run/docker.sock")
    return Diagnosis(
        "socket-permission", f"the docker CLI says: {_line(text, m)}",
        "sudo usermod -aG docker $USER, then log out and back in (or run the suite with sudo, or use a rootless "
        f"daemon: DOCKER_HOST={ROOTLESS_SOCKET})" if own else
        f"this user may not open {socket}: ask its owner for access (`ls -l {socket.removeprefix('unix://')}`), "
        "or point DOCKER_HOST at a daemon you may use",
        why=f"{socket} belongs to root and the docker group" if own else f"{socket} is not writable by this user")


def _daemon_down(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "daemon-down", f"no docker daemon: {_line(text, m)}",
        "sudo systemctl start docker, or point DOCKER_HOST at the socket of the daemon you use "
        f"(rootless: DOCKER_HOST={ROOTLESS_SOCKET}; remote: DOCKER_HOST=ssh://user@host)")


def _api_too_new(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "api-too-new", f"the engine says: {_line(text, m)}",
        f"unset DOCKER_API_VERSION (the CLI then agrees on a version with the daemon by itself) or set "
        f"DOCKER_API_VERSION={m.group(2)}; or upgrade the docker daemon",
        why=f"the CLI asked for API {m.group(1)}, which this daemon does not speak",
        source="https://github.com/nightlord189/docklogkeeper/issues/4")


def _api_too_old(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "api-too-old", f"the engine says: {_line(text, m)}",
        f"upgrade the docker CLI ({result.argv[0]}) to one that speaks API {m.group(2)} or newer, or unset "
        "DOCKER_API_VERSION if it is set",
        why="newer daemons refuse clients older than their minimum API version",
        source="https://github.com/solero/wand/issues/44")


def _unknown_flag(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "unknown-flag", f"the docker CLI says: {_line(text, m)}",
        f"this docker CLI ({result.argv[0]}) does not know {m.group(1)}: upgrade it (the suite needs Docker "
        "20.10 or later), or put a newer `docker` first on PATH",
        why="the flag is the CLI's, not the daemon's: an older CLI rejects it before anything runs")


def _no_image(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    image = m.group(1).strip("'\"").rstrip(".")
    return Diagnosis(
        "no-image", f"the engine says: {_line(text, m)}",
        f"docker pull {image}, or run the suite with --docker-pull (it never pulls on its own)")


def _pull_denied(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "pull-failed", f"the registry says: {_line(text, m)}",
        "check the image name and tag given to --docker-image (`docker search`, the image's page), "
        "or `docker login` first if it is private",
        source="https://github.com/amd/InfinityHub-CI/issues/11")


def _registry_unreachable(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "registry-unreachable", f"the engine says: {_line(text, m)}",
        f"the docker daemon cannot reach the registry {m.group(1)} (offline, DNS, a proxy): give the daemon a proxy "
        "(HTTP_PROXY/HTTPS_PROXY in a systemd drop-in for docker.service), or pull on a connected machine and "
        "move the image with `docker save` | `docker load`",
        why="the daemon pulls, not the CLI: the daemon's network and proxy settings apply",
        source="https://docs.docker.com/engine/daemon/proxy/")


def _no_command(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return Diagnosis(
        "no-command", f"the engine says: {_line(text, m)}",
        f"the image has no {m.group(1)}: use an image built on ROCm (rocm/rocm-terminal, rocm/pytorch)")


def _timeout_words(text: str, m: re.Match[str], result: Result) -> Diagnosis:
    return _timeout(f"the engine says: {_line(text, m)}")


def _timeout(found: str) -> Diagnosis:
    return Diagnosis(
        "daemon-timeout", found,
        "the daemon takes the connection but does not answer in time: look at `sudo systemctl status docker` "
        "and `sudo journalctl -u docker -n 50`, then `sudo systemctl restart docker`; for a remote DOCKER_HOST "
        "check the network to it",
        source="https://github.com/nicholas-fedor/watchtower/issues/876")


# (pattern over the command's words, lower-cased match kept in the original text) -> its diagnosis; first wins
PATTERNS = (
    (r'error gathering device information while adding custom device "([^"]+)": no such file or directory',
     _missing_device),
    (r"permission denied while trying to connect to the docker daemon socket at (\w+://\S+?):\s", _socket_denied),
    (r"cannot connect to the docker daemon at (\S+?)\.? is the docker daemon running\?", _daemon_down),
    (r"error during connect: .*(?:connection refused|no such host|no such file or directory)", _daemon_down),
    (r"client version ([\d.]+) is too new\. maximum supported api version is ([\d.]+)", _api_too_new),
    (r"client version ([\d.]+) is too old\. minimum supported api version is ([\d.]+)", _api_too_old),
    (r"unknown (?:shorthand )?flag: '?(--?[\w-]+)'?", _unknown_flag),
    (r"flag provided but not defined: (-[\w-]+)", _unknown_flag),
    (r"no such image: (\S+)", _no_image),
    (r"unable to find image (\S+) locally", _no_image),
    (r"pull access denied for \S+|manifest for \S+ not found|manifest unknown", _pull_denied),
    (r'error response from daemon: get "?(https?://[^"/\s]+)/v2/[^"\s]*"?: ', _registry_unreachable),
    (r'exec: "([^"]+)": (?:stat [^:]+: no such file or directory|executable file not found in \$path)',
     _no_command),
    (r"context deadline exceeded|client\.timeout exceeded|i/o timeout|tls handshake timeout", _timeout_words),
)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), make) for pattern, make in PATTERNS)


def diagnose(result: Result) -> Diagnosis | None:
    """The cause of a failed docker command, or None when the command succeeded.

    Known engine/CLI words first; then a command that did not finish (a hung daemon);
    then any other refusal of the engine (exit 125, "Error response from daemon");
    a non-zero exit without any of those is the container's own command failing.
    """
    if result.ok:
        return None
    text = _words(result)
    for pattern, make in _COMPILED:
        m = pattern.search(text)
        if m:
            return make(text, m, result)
    if result.error and "did not finish" in result.error:
        if result.argv[1:2] == ("run",):
            return Diagnosis(
                "container-timeout", f"no answer: {result.error}",
                "the container's command or the daemon hangs: while it runs, `docker ps` shows whether the "
                "container is up (then the command inside waits on something); if `docker version` hangs too, "
                "the daemon does: `sudo journalctl -u docker -n 50`, `sudo systemctl restart docker`")
        return _timeout(f"no answer: {result.error}")
    if result.error:
        return Diagnosis("no-cli", result.error, "install the docker CLI, or put it on PATH")
    refused = re.search(r"error response from daemon: .+", text, re.IGNORECASE)
    if refused or result.returncode == 125:
        said = _line(text, refused) if refused else (result.said() or f"exit {result.returncode}")
        return Diagnosis("engine-refused", f"the engine says: {said}",
                         f"run `{_command(result)}` yourself and read the engine's message; "
                         "the daemon's log (`sudo journalctl -u docker -n 50`) may say more")
    return Diagnosis("container-exit",
                     f"`{shlex.join(_inner(result))}` exited {result.returncode} inside the container: {result.said()}",
                     "the engine ran the container; the command inside it failed: read its words above")


def _inner(result: Result) -> tuple[str, ...]:
    """The command run inside the container: what follows the image in `docker run ... IMAGE CMD...`."""
    argv = list(result.argv[1:])
    if not argv or argv[0] != "run":
        return tuple(argv)
    i = 1
    takes_value = {"--name", "--group-add", "--security-opt", "-e", "--env", "--device", "-v", "--volume", "-u",
                   "--user", "--pull", "--entrypoint", "-w", "--workdir", "--label", "-l"}
    while i < len(argv) and argv[i].startswith("-"):
        i += 1 if "=" in argv[i] or argv[i] not in takes_value else 2
    return tuple(argv[i + 1:]) or tuple(argv)
