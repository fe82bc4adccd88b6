"""A recorded ollama server: what a recorded machine's `machine.json` says its server
answered (version, the loaded model's /api/ps sizes, the generate timings), replayed
without a network so the ollama checks run on recorded machines as on live ones.

    "ollama": {"version": "0.32.15", "model": "llama3.1:8b", "size": 5_300_000_000,
               "size_vram": 0, "eval_count": 64, "eval_duration": 9_000_000_000,
               "log": "/var/log/ollama.log"}      # optional: a file in the machine's tree
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures.parsers.ollama import LoadedModel, processor_text
from suites.ollama.client import OllamaError


@dataclass
class RecordedOllama:
    """The subset of OllamaClient the suite uses, answering from the recording."""

    data: dict[str, Any]
    url: str = "recorded"

    def version(self) -> str:
        version = self.data.get("version")
        if not isinstance(version, str):
            raise OllamaError("the recording's ollama section has no version")
        return version

    def tags(self) -> list[dict[str, Any]]:
        return [{"name": self.data.get("model"), "size": self.data.get("size")}] if self.data.get("model") else []

    def ps(self) -> tuple[LoadedModel, ...]:
        size, vram = self.data.get("size"), self.data.get("size_vram", 0)
        if not isinstance(size, int) or not isinstance(vram, int):
            raise OllamaError("the recording's ollama section has no integer size/size_vram")
        return (LoadedModel(str(self.data.get("model")), size, vram, processor_text(size, vram)),)

    def generate(self, model: str, prompt: str, **_: Any) -> dict[str, Any]:
        return {"model": model, "done": True, "response": "(recorded)",
                **{k: self.data[k] for k in ("eval_count", "eval_duration") if k in self.data}}

    def unload(self, model: str) -> None:
        return None


def recorded_server(sysroot: str | None) -> tuple[RecordedOllama, Path | None] | None:
    """The recording's ollama server and its log file, or None when it records none."""
    if not sysroot:
        return None
    try:
        sidecar = json.loads((Path(sysroot) / "machine.json").read_text())
    except (OSError, ValueError):
        return None
    data = sidecar.get("ollama") if isinstance(sidecar, dict) else None
    if not isinstance(data, dict):
        return None
    log = data.get("log")
    path = Path(sysroot) / str(log).lstrip("/") if isinstance(log, str) and log else None
    return RecordedOllama(data), path
