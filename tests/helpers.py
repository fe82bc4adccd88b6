"""Helpers shared by the self-tests."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINES = REPO / "fixtures" / "machines"
CAPTURES = Path(__file__).parent / "data" / "captures"
PLUGINS_CONFTEST = "from plugins import PLUGINS\npytest_plugins = list(PLUGINS)\n"


def machine_names() -> list[str]:
    return sorted(p.name for p in MACHINES.iterdir() if (p / "machine.json").exists())


def capture_body(name: str) -> str:
    """A capture's pasted output: everything after the header line `# ---`."""
    lines = (CAPTURES / name).read_text().splitlines()
    return "\n".join(lines[lines.index("# ---") + 1:]) + "\n"


def load_report(directory: Path) -> dict:
    """The one JSON report a run wrote into `directory`."""
    (path,) = directory.glob("*.json")
    return json.loads(path.read_text())


def derive_machine(base: str, out: Path, files: dict[str, str | None], sidecar: dict) -> Path:
    """A copy of fixtures/machines/BASE with files replaced (None deletes) and sidecar keys set."""
    shutil.copytree(MACHINES / base, out)
    for path, text in files.items():
        target = out / path.lstrip("/")
        if text is None:
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if sidecar:
        data = json.loads((out / "machine.json").read_text())
        data.update(sidecar)
        (out / "machine.json").write_text(json.dumps(data))
    return out


class CountingProxy:
    """A loopback TCP listener that records every connection chromium makes through it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(200))
                except OSError:
                    self.requests.append(b"?")

    def hosts(self) -> set[str]:
        """Hosts asked for: `GET http://host/...` or `CONNECT host:443`."""
        found = set()
        for request in self.requests:
            parts = request.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(parts) >= 2:
                target = parts[1].split("://", 1)[-1]
                found.add(target.split("/", 1)[0].split(":", 1)[0])
        return found

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()
