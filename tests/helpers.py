"""Helpers shared by the self-tests."""

from __future__ import annotations

import json
import shutil
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
