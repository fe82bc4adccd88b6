"""The append-only record file beside an unfinished report (`apu-….jsonl`).

Why: rewriting the whole JSON and page after every test made a run's report writing
quadratic in its number of tests (507 full rewrites for 166 tests).  Instead the writer
appends one line per test when it starts and when it finishes — one `write()` each, so a
run killed at any moment (SIGKILL, the OOM killer, a GPU hang that takes the machine
down) leaves every finished test on disk — and rewrites the whole report at most about
once a second and at the end.  A reader (`reports.document.load`, so every
`python -m reports` command) lays the last line of each test over the results of a
report that did not finish.  A finished run removes the file: the report holds it all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SUFFIX = ".jsonl"


class RecordFile:
    """Appends records as JSON lines, unbuffered; the file is opened on the first line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        os.write(self._fd, line)

    def sync(self) -> None:
        """To the disk, not only the page cache: a machine that hangs and is reset keeps them too."""
        if self._fd is not None:
            os.fdatasync(self._fd)

    def remove(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The last record of each test, in the order tests first appeared.  A torn last line
    (the run was killed inside a write) and lines that are not records are skipped."""
    latest: dict[str, dict[str, Any]] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("nodeid"), str) and isinstance(record.get("outcome"), str):
            latest[record["nodeid"]] = record
    return list(latest.values())
