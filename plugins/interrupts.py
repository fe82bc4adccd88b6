"""SIGTERM and SIGHUP end a run like Ctrl-C does: the report is finished as `interrupted`,
naming the signal.

Why: `timeout`, systemd, CI cancellations and a closed terminal send SIGTERM or SIGHUP,
whose default action kills the process at once, leaving the report `running` forever.
The handler raises a KeyboardInterrupt (pytest's own path for Ctrl-C: the session ends,
`pytest_sessionfinish` runs with the interrupted exit status), once: a second signal
while the report is being finished is noted and ignored (SIGKILL still stops anything).
SIGINT is watched too, only to name it.  Forked children (plugins/isolation.py) go back
to the default action, so a signal sent to the whole group kills them as a signal.
"""

from __future__ import annotations

import signal
from types import FrameType

import pytest

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
interrupts_key = pytest.StashKey["Interrupts"]()


class SignalInterrupt(KeyboardInterrupt):
    """What a SIGTERM/SIGHUP becomes, so pytest's summary names the signal."""


class Interrupts:
    """The handlers of one run, the signal that ended it, and the handlers to put back."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in SIGNALS:
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):  # not the main thread (an embedding host): leave them
                pass

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            try:
                signal.signal(sig, previous)  # type: ignore[arg-type]
            except (ValueError, OSError, TypeError):
                pass
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signal is not None and signum != signal.SIGINT:
            return  # the report is being finished: let it
        self.signal = self.signal or name
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SignalInterrupt(f"{name} received: the run stops and its report is finished as interrupted")


def default_in_child() -> None:
    """In a forked test child: signals kill it as they would any process."""
    for sig in SIGNALS:
        if sig != signal.SIGINT:
            signal.signal(sig, signal.SIG_DFL)


def interrupting_signal(config: pytest.Config) -> str | None:
    interrupts = config.stash.get(interrupts_key, None)
    return interrupts.signal if interrupts else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    interrupts = Interrupts()
    interrupts.install()
    config.stash[interrupts_key] = interrupts


def pytest_unconfigure(config: pytest.Config) -> None:
    interrupts = config.stash.get(interrupts_key, None)
    if interrupts is not None:
        interrupts.restore()
