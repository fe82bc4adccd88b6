"""A private Docker engine for the self-tests: its own socket, data root and exec root in a
fresh directory under /tmp, images built from files (a static busybox root file system),
never a registry.  Stopped, unmounted and removed afterwards, also when the run is
interrupted: a session finalizer, atexit, a parent-death signal to dockerd, and a sweep
of directories left by a run that was killed outright.

Why a real engine: the fake `docker` (tests/fake_bin) only replays what someone recorded;
the engine's own words for a missing device, a refused socket or an API mismatch, and
whether the suite leaves containers behind, are only known by running it.

Where dockerd cannot start (not root, docker.io or busybox-static not installed, the
daemon does not answer), `Unavailable` says why and the tests that need it skip.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "apu-dockerd-"
START_TIMEOUT = 30.0
APPLETS = ("sh", "cat", "ls", "test", "echo", "printenv", "true", "false", "sleep", "mkfifo")
BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")

# The images the fixture builds: tag -> contents of /opt/rocm/.info/version (None: no file,
# "fifo": a named pipe, so `cat` blocks and a run can be interrupted mid-container).
# 6.2.4 matches the ROCm that fixtures/machines/780m-good records; 6.4.1 does not.
IMAGES: dict[str, str | None] = {
    "local/apu-rocm:6.2": "6.2.4-120\n",
    "local/apu-rocm:6.4": "6.4.1-83\n",
    "local/apu-norocm:1": None,
    "local/apu-hang:1": "fifo",
}


class Unavailable(Exception):
    """Why no private engine can run here (the tests that need one skip with this)."""


def _static_elf(path: Path) -> bool:
    """A 64-bit little-endian ELF without a PT_INTERP program header: it runs in an empty root."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
            if head[:6] != b"\x7fELF\x02\x01":
                return False
            phoff, = struct.unpack_from("<Q", head, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
    except OSError:
        return False
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))


def static_busybox() -> Path:
    for candidate in BUSYBOX_PATHS:
        if _static_elf(Path(candidate)):
            return Path(candidate)
    raise Unavailable("no static busybox (apt-get install busybox-static): the test images need one")


def rootfs_tar(busybox: Path, version: str | None) -> bytes:
    """A root file system as a tar stream: /bin/busybox, its applets, maybe /opt/rocm/.info/version."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in ("bin", "opt", "opt/rocm", "opt/rocm/.info", "tmp", "dev", "proc", "sys", "etc"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(str(busybox), "bin/busybox")
        for applet in APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        if version == "fifo":
            info = tarfile.TarInfo("opt/rocm/.info/version")
            info.type, info.mode = tarfile.FIFOTYPE, 0o644
            tar.addfile(info)
        elif version is not None:
            data = version.encode()
            info = tarfile.TarInfo("opt/rocm/.info/version")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _set_pdeathsig() -> None:
    """In dockerd's child: SIGTERM when the process that started it dies, however it died."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mounts_below(root: Path) -> list[str]:
    """Mount points at or below root, deepest first (dockerd bind-mounts its data root)."""
    points = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if point == str(root) or point.startswith(f"{root}/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _read_pid_text(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _read_pid(path: Path) -> int | None:
    try:
        return _read_pid_text(path.read_text().strip())
    except OSError:
        return None


def remove_tree(root: Path, daemon_pid: int | None) -> None:
    """Stop dockerd (SIGTERM, then SIGKILL), unmount what it left and delete its directory."""
    if daemon_pid and _alive(daemon_pid):
        with contextlib.suppress(OSError):
            os.kill(daemon_pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _alive(daemon_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(daemon_pid, os.WNOHANG)
        if _alive(daemon_pid):
            with contextlib.suppress(OSError):
                os.kill(daemon_pid, signal.SIGKILL)
    for point in _mounts_below(root):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


def sweep_stale(base: Path) -> None:
    """Remove engines left by self-test runs that were killed (their owner process is gone)."""
    for stale in base.glob(f"{PREFIX}*-*"):
        owner = _read_pid_text(stale.name.removeprefix(PREFIX).split("-")[0])
        if owner is None or _alive(owner):
            continue
        remove_tree(stale, _read_pid(stale / "docker.pid"))


@dataclass
class Engine:
    """A running private dockerd and the CLI bound to it (DOCKER_HOST)."""

    root: Path
    proc: subprocess.Popen[bytes]
    cli: str
    version: str = ""
    built: dict[str, str] = field(default_factory=dict)
    owner: int = field(default_factory=os.getpid)
    _stopped: bool = False

    @property
    def host(self) -> str:
        return f"unix://{self.root / 'docker.sock'}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONTEXT", "DOCKER_API_VERSION")}
        return {**env, "DOCKER_HOST": self.host, **extra}

    def docker(self, *args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.cli, *args], input=stdin, capture_output=True, timeout=timeout, env=self.env())
        return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                           proc.stderr.decode(errors="replace"))

    def containers(self) -> list[str]:
        """Every container the daemon has, running or not: `docker ps -a`."""
        out = self.docker("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}")
        assert out.returncode == 0, out.stderr
        return out.stdout.split("\n")[:-1] if out.stdout else []

    def images(self) -> set[str]:
        """Every image as `repository:tag id`, so a retag, removal or pull shows as a difference."""
        out = self.docker("images", "-a", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
        assert out.returncode == 0, out.stderr
        return set(out.stdout.split())

    def events(self, since: float) -> list[dict]:
        """What the daemon did since `since` (container create/destroy, image pull/delete ...)."""
        out = self.docker("events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                          "--format", "{{json .}}")
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def build_images(self, busybox: Path) -> None:
        for tag, version in IMAGES.items():
            made = self.docker("import", "-", tag, stdin=rootfs_tar(busybox, version))
            if made.returncode != 0:
                raise Unavailable(f"docker import {tag} failed: {made.stderr.strip()}")
            self.built[tag] = made.stdout.strip()

    def clean(self) -> None:
        """Remove any container (a test may have left one on purpose); images stay."""
        ids = self.docker("ps", "-aq").stdout.split()
        if ids:
            self.docker("rm", "-f", *ids)

    def stop(self) -> None:
        """Idempotent, and a no-op in a forked child (isolation forks the self-test process)."""
        if self._stopped or os.getpid() != self.owner:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            if self.proc.poll() is None:
                self.clean()
        remove_tree(self.root, self.proc.pid)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)


def start_engine(base: Path = Path("/tmp")) -> Engine:
    """Start a private dockerd and build the test images, or raise Unavailable saying why."""
    dockerd, cli = shutil.which("dockerd"), shutil.which("docker")
    if dockerd is None or cli is None:
        raise Unavailable("dockerd or the docker CLI is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise Unavailable("a private dockerd needs root here (the self-tests run as uid "
                          f"{os.geteuid()}); rootless dockerd is not set up for them")
    busybox = static_busybox()
    sweep_stale(base)
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))  # the owner's pid in the name
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [dockerd, "--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none",
         "-H", f"unix://{root / 'docker.sock'}", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "--pidfile", str(root / "docker.pid")],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_set_pdeathsig)
    log.close()
    engine = Engine(root, proc, cli)
    atexit.register(engine.stop)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            answer = engine.docker("version", "--format", "{{.Server.Version}}", timeout=10)
            if answer.returncode == 0 and answer.stdout.strip():
                engine.version = answer.stdout.strip()
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "dockerd.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise Unavailable(f"dockerd did not answer in {START_TIMEOUT:.0f} s: {' | '.join(tail)}")
            time.sleep(0.2)
        engine.build_images(busybox)
    except BaseException:
        engine.stop()
        raise
    return engine
