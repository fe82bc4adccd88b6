"""The docker CLI, run with a bound and read through its JSON formats; every container
this suite starts is named, run with --rm (and --pull=never where the CLI has it: nothing
is pulled behind the user's back) and removed afterwards even when the check fails or the
run is interrupted."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any

from fixtures.machine import CommandResult as Result
from fixtures.versions import parse_version

TIMEOUT = 120.0
LABEL = "apu-conformance.run"
# This run's key, fixed at import (before isolation forks a test's child), so the run can
# find and remove its containers at the end even when a child was killed mid-container.
RUN_KEY = uuid.uuid4().hex[:12]


@dataclass
class DockerCLI:
    exe: str
    timeout: float = TIMEOUT
    started: list[str] = field(default_factory=list)
    client_version: str | None = None

    @classmethod
    def find(cls) -> "DockerCLI | None":
        exe = shutil.which("docker")
        return cls(exe) if exe else None

    def run(self, *args: str, timeout: float | None = None) -> Result:
        argv = (self.exe, *args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or self.timeout,
                                  stdin=subprocess.DEVNULL, errors="replace")
        except subprocess.TimeoutExpired:
            return Result(argv, None, error=f"`docker {' '.join(args[:2])}` did not finish in {timeout or self.timeout:.0f} s")
        except OSError as exc:
            return Result(argv, None, error=f"docker could not be started: {exc}")
        return Result(argv, proc.returncode, proc.stdout, proc.stderr)

    def remove_ours(self) -> Result:
        """`docker rm -f` every container this run started and that is still there.

        The per-container `rm -f` runs in the test's process; a test child killed by an
        interrupt or the time limit never gets to it, so the run ends with this sweep.
        """
        listed = self.run("ps", "-aq", "--filter", f"label={LABEL}={RUN_KEY}", timeout=min(self.timeout, 15))
        ids = listed.stdout.split() if listed.ok else []
        return self.run("rm", "-f", *ids, timeout=min(self.timeout, 30)) if ids else listed

    def version(self) -> tuple[dict[str, Any] | None, Result]:
        result = self.run("version", "--format", "{{json .}}", timeout=min(self.timeout, 30))
        try:
            data = json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else None
        client = data.get("Client") if data else None
        if isinstance(client, dict) and isinstance(client.get("Version"), str):
            self.client_version = client["Version"]
        return data, result

    @property
    def pull_never(self) -> list[str]:
        """`--pull=never` for a CLI that has it (Docker 20.10 and later), else nothing: an older
        CLI would reject the flag, and the image was looked up before anyway."""
        release = parse_version(self.client_version or "")
        return ["--pull=never"] if release is not None and release.release[:1] >= (20,) else []

    def has_image(self, image: str) -> bool:
        return self.inspect(image).ok

    def inspect(self, image: str) -> Result:
        return self.run("image", "inspect", "--format", "{{json .Id}}", image, timeout=min(self.timeout, 30))

    def container(self, image: str, flags: list[str], command: list[str]) -> Result:
        """`docker run --rm` under a name of ours; `docker rm -f` afterwards whatever happened."""
        name = f"apu-conformance-{uuid.uuid4().hex[:10]}"
        self.started.append(name)
        try:
            return self.run("run", "--rm", "--name", name, "--label", f"{LABEL}={RUN_KEY}", *self.pull_never, *flags,
                            image, *command)
        finally:
            self.run("rm", "-f", name, timeout=min(self.timeout, 30))
