"""Which process wrote a report, and whether it still runs.

A report left `running` is either still being written or was killed (SIGKILL, the OOM
killer, a reset after a GPU hang) before it could say so.  The writer records its pid,
host and a key (hashes of this machine, of this boot, and the process's start time), so
a reader on the same machine can tell: the process is gone, or the pid now belongs to
another process, or the machine rebooted since -> `killed`.  On another machine it cannot
be told.  The key holds no name: the host part is a salted hash, kept when the report is
redacted.
"""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Any

BOOT_ID = "/proc/sys/kernel/random/boot_id"
MACHINE_ID = ("/etc/machine-id", "/var/lib/dbus/machine-id")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _digest(*parts: str | None) -> str:
    return hashlib.sha256("\0".join(p or "" for p in ("apu-conformance", *parts)).encode()).hexdigest()[:16]


def host_id() -> str:
    """This machine, salted with its machine-id (not in the report) so a host name cannot be guessed back."""
    machine = next((m for m in map(_read, MACHINE_ID) if m), None)
    return _digest(machine, socket.gethostname())


def start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks after boot (/proc/PID/stat field 22)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat or ")" not in stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(),
            "process_key": {"host_id": host_id(), "boot_id": _digest(_read(BOOT_ID)), "start_ticks": start_ticks(pid)}}


def still_running(doc: dict[str, Any]) -> tuple[bool | None, str]:
    """(True: it runs / False: it is gone / None: cannot tell, and why) for the writer of `doc`."""
    pid, key = doc.get("pid"), doc.get("process_key")
    if not isinstance(pid, int) or not isinstance(key, dict):
        return None, "the report does not say which process wrote it"
    if key.get("host_id") != host_id():
        return None, "written on another machine: whether that run still goes on cannot be told from here"
    if key.get("boot_id") != _digest(_read(BOOT_ID)):
        return False, f"this machine has rebooted since pid {pid} wrote it"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, f"pid {pid}, which wrote it, no longer exists"
    except PermissionError:
        pass  # exists, run by another user
    started = key.get("start_ticks")
    if started is not None and start_ticks(pid) not in (None, started):
        return False, f"pid {pid}, which wrote it, has ended (the number now belongs to another process)"
    return True, f"pid {pid} is still running"
