"""The docker CLI, run with a bound and read through its JSON formats; every container
this suite starts is named, and removed afterwards even when the check fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any

from fixtures.machine import CommandResult as Result

TIMEOUT = 120.0


@dataclass
class DockerCLI:
    exe: str
    timeout: float = TIMEOUT
    started: list[str] = field(default_factory=list)

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

    def version(self) -> tuple[dict[str, Any] | None, Result]:
        result = self.run("version", "--format", "{{json .}}", timeout=30)
        try:
            data = json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError:
            data = None
        return (data if isinstance(data, dict) else None), result

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", "--format", "{{json .Id}}", image, timeout=30).ok

    def container(self, image: str, flags: list[str], command: list[str]) -> Result:
        """`docker run --rm` under a name of ours; `docker rm -f` afterwards whatever happened."""
        name = f"apu-conformance-{uuid.uuid4().hex[:10]}"
        self.started.append(name)
        try:
            return self.run("run", "--rm", "--name", name, *flags, image, *command)
        finally:
            self.run("rm", "-f", name, timeout=30)
