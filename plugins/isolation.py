"""Isolation: tests that drive the GPU stack run in a forked child, so a segfault, an
abort, a hang or an out-of-memory kill costs that test, not the run.

Why fork: a GPU fault in HIP kills the process (the gfx1033 capture shows
hipErrorNoBinaryForGpu aborting with a core dump), and a hung kernel never returns to
Python, so only another process can record it and go on.  The child runs the test's
whole protocol (setup, call, teardown) and sends its reports back; the parent waits at
most the time limit, then kills it.  faulthandler writes the child's Python stack to a
file on a fatal signal, or when the limit nears, and the report shows its last lines.

Which tests: `--isolation auto` (default) those that will run torch or ONNX Runtime on
the GPU in this process (should_isolate: not a test that will skip, not a CPU device);
`all` every test; `off` none.  A child costs
about 5-10 ms (fork; torch is imported once in the parent), plus the session fixtures it
sets up again: about 0.3 s per torch-suite test on a CPU (benchmarks/isolation.py), so
CPU-only runs are not isolated by default.  The per-test limit follows --level and
can be set with --test-timeout.
"""

from __future__ import annotations

import faulthandler
import json
import os
import select
import signal
import tempfile
import time
import pytest

from plugins.interrupts import default_in_child
from plugins.live import device_skip_reason, ort_gpu_providers, replay_skip_reason
from plugins.markers import unmet_requirement
from plugins.state import run_state

# Tests whose own process runs GPU code: they are isolated.  ollama and docker drive the
# GPU from another process (the server, the container), so they are only grouped.
ISOLATE_FIXTURES = frozenset({"torch_module", "ort"})
GPU_FIXTURES = ISOLATE_FIXTURES | {"ollama", "docker_daemon"}
# Imported once in the parent before forking, so each child does not pay for the import.
# Importing initialises no GPU context (that happens in the child, on first use).
PREIMPORT = {"torch_module": ("torch",), "ort": ("onnxruntime",), "transformers_module": ("transformers",)}
LIMITS = {"quick": 120.0, "standard": 600.0, "full": 3600.0}
OUTCOME_PROPERTY = "isolation"
TAIL_LINES = 15


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apu")
    group.addoption("--isolation", default="auto", metavar="{auto,all,off}",
                    help="run GPU tests (auto, default), every test (all) or none (off) in a forked child that "
                         "may crash or hang without taking the run down")
    group.addoption("--test-timeout", default=None, metavar="SECONDS",
                    help="time limit of one isolated test (default by --level: 120 quick, 600 standard, 3600 full)")


def should_isolate(item: pytest.Item) -> bool:
    """Fork only for a test that will drive the GPU in its own process.  Decided before
    forking, from cheap evidence (plugins/live.py): a test that will skip (its markers, a
    replay, a CPU-only torch build), or whose device is the CPU, runs in-process, since a
    child per test costs 0.1 s or more and protects nothing there."""
    mode = run_state(item.config).options.isolation
    if mode == "off" or not hasattr(os, "fork"):
        return False
    if mode == "all":
        return True
    if run_state(item.config).options.torch_device == "cpu":
        return False  # nothing on the GPU
    fixtures = set(getattr(item, "fixturenames", ()))
    if not ISOLATE_FIXTURES & fixtures or _will_skip(item):
        return False
    torch_gpu = "torch_module" in fixtures and device_skip_reason(item.config) is None
    ort_gpu = "ort" in fixtures and replay_skip_reason(item.config) is None and bool(ort_gpu_providers())
    return torch_gpu or ort_gpu


def _will_skip(item: pytest.Item) -> bool:
    """The item's own markers (the suite's requirements, pytest's skip/skipif) skip it."""
    if unmet_requirement(item):
        return True
    try:
        from _pytest.skipping import evaluate_skip_marks

        return evaluate_skip_marks(item) is not None
    except Exception:  # noqa: BLE001 - a bad skipif condition is pytest's to report, in-process
        return True


def time_limit(config: pytest.Config) -> float:
    options = run_state(config).options
    return options.test_timeout or LIMITS[options.level]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not should_isolate(item):
        return None
    _preimport(item)
    # The parent sets nothing up for this item, but earlier tests may have left fixtures of
    # other modules or classes on its stack: tear those down now, as pytest would.
    setupstate = item.session._setupstate
    setupstate.teardown_exact(item)
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in run_isolated(item, time_limit(item.config)):
        ihook.pytest_runtest_logreport(report=report)
    setupstate.teardown_exact(nextitem)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _preimport(item: pytest.Item) -> None:
    import importlib

    for fixture, modules in PREIMPORT.items():
        if fixture in item.fixturenames:
            for module in modules:
                try:
                    importlib.import_module(module)
                except Exception:  # noqa: BLE001 - the child's fixture reports the failure
                    pass


def _child(item: pytest.Item, write_fd: int, stack_path: str, limit: float) -> None:
    """In the forked child: run the protocol, send the serialised reports, never return."""
    from _pytest.runner import runtestprotocol

    code = 0
    try:
        default_in_child()
        with open(stack_path, "w") as stack:
            faulthandler.enable(file=stack, all_threads=True)
            faulthandler.dump_traceback_later(max(1.0, limit - 1.0), exit=False, file=stack)
            reports = runtestprotocol(item, log=False, nextitem=None)
            faulthandler.cancel_dump_traceback_later()
            hook = item.config.hook
            data = json.dumps([hook.pytest_report_to_serializable(config=item.config, report=r) for r in reports])
            with os.fdopen(write_fd, "w") as out:
                out.write(data)
    except BaseException:  # noqa: BLE001 - the child must always end with os._exit
        code = 70
    finally:
        os._exit(code)


def run_isolated(item: pytest.Item, limit: float) -> list[pytest.TestReport]:
    fd, stack_path = tempfile.mkstemp(prefix="apu-isolated-", suffix=".stack")
    os.close(fd)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(item, write_fd, stack_path, limit)
    os.close(write_fd)
    chunks, timed_out = [], False
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                left = limit - (time.monotonic() - start)
                if left <= 0:
                    timed_out = True
                    break
                ready, _, _ = select.select([pipe], [], [], min(left, 1.0))
                if ready:
                    chunk = os.read(pipe.fileno(), 1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the child must not outlive the run
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.unlink(stack_path)
        raise
    if timed_out:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    duration = time.monotonic() - start
    tail = _tail(stack_path)
    os.unlink(stack_path)
    if timed_out:
        return [_synthetic(item, "timeout", f"timeout: {item.nodeid} did not finish within {limit:.0f} s and was "
                           f"killed{_params(item)}", tail, duration)]
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else str(sig)
        hint = " (SIGKILL: often the kernel's OOM killer)" if sig == signal.SIGKILL else ""
        return [_synthetic(item, "crashed", f"crashed: {item.nodeid} was killed by {name}{hint}{_params(item)}",
                           tail, duration)]
    try:
        data = json.loads(b"".join(chunks).decode() or "null")
        reports = [item.config.hook.pytest_report_from_serializable(config=item.config, data=d) for d in data]
    except (ValueError, TypeError, AttributeError):
        reports = []
    for report in reports:  # JSON turned the tuples pytest expects into lists
        if isinstance(report.longrepr, list):
            report.longrepr = tuple(report.longrepr)
        report.location = tuple(report.location) if report.location else report.location
    if not reports:
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return [_synthetic(item, "crashed", f"crashed: {item.nodeid} exited with status {code} before reporting"
                           f"{_params(item)}", tail, duration)]
    return reports


def _params(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return f" (parameters {callspec.params})" if callspec else ""


def _tail(path: str) -> str:
    """The start of faulthandler's dump: the signal and the innermost frames (it prints
    the most recent call first), which say what the test was doing."""
    try:
        with open(path, errors="replace") as fh:
            lines = [line.rstrip() for line in fh if line.strip()]
    except OSError:
        return ""
    return "\n".join(lines[:TAIL_LINES])


def _synthetic(item: pytest.Item, kind: str, message: str, tail: str, duration: float) -> pytest.TestReport:
    text = message + (f"\nwhat it was doing (Python stack, innermost first):\n{tail}" if tail else "")
    return pytest.TestReport(item.nodeid, item.location, {k: 1 for k in item.keywords}, "failed", text, "call",
                             sections=[], duration=duration, user_properties=[(OUTCOME_PROPERTY, kind)])


def group_gpu_tests(items: list[pytest.Item], cpu_device: bool = False) -> None:
    """Under xdist --dist loadgroup, every GPU test goes to one worker: they never contend.
    With --torch-device=cpu the torch/ONNX tests use no GPU and may spread."""
    fixtures = GPU_FIXTURES - ISOLATE_FIXTURES if cpu_device else GPU_FIXTURES
    for item in items:
        if fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("gpu"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_gpu_tests(items, run_state(config).options.torch_device == "cpu")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With -n and no --dist, distribute by group so the GPU group stays on one worker."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "no":
        config.option.dist = "loadgroup"

