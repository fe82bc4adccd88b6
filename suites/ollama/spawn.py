"""`--ollama-spawn`: start `ollama serve` on a free loopback port with the environment the
seed puts in the systemd override (plus OLLAMA_IGPU_ENABLE=1, which ollama >= 0.30.0 needs
to keep a 780M/890M), wait for it (bounded), stop it at the end, leave no
process behind.  Its log is kept for the log checks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

READY_TIMEOUT = 30.0


@dataclass
class SpawnedServer:
    process: subprocess.Popen
    url: str
    log_path: Path
    env: dict[str, str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class SpawnError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(log_dir: Path, override: str | None) -> SpawnedServer:
    exe = shutil.which("ollama")
    if exe is None:
        raise SpawnError("--ollama-spawn: no ollama executable on PATH (install ollama, or give --ollama-url)")
    port = free_port()
    # OLLAMA_IGPU_ENABLE: ollama >= 0.30.0 drops an APU's iGPU without it (harmless before and on dGPUs)
    env = {"OLLAMA_HOST": f"127.0.0.1:{port}", "OLLAMA_MAX_LOADED_MODELS": "1", "OLLAMA_NUM_PARALLEL": "1",
           "OLLAMA_IGPU_ENABLE": "1"}
    if override:
        env["HSA_OVERRIDE_GFX_VERSION"] = override
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"ollama-serve-{port}.log"
    log = open(log_path, "w")
    process = subprocess.Popen([exe, "serve"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    server = SpawnedServer(process, f"http://127.0.0.1:{port}", log_path, env)
    import requests

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SpawnError(f"ollama serve exited with {process.returncode} before it was ready; log: {log_path}")
        try:
            if requests.get(f"{server.url}/api/version", timeout=1).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise SpawnError(f"ollama serve did not answer on {server.url} within {READY_TIMEOUT:.0f} s; log: {log_path}")
