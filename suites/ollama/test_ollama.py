"""Is ollama set up for this GPU, does it put a model that fits entirely on it, how fast?"""

from __future__ import annotations

import pytest

from fixtures.native import ollama_bundled_targets
from fixtures.parsers.ollama import parse_ollama_log
from suites.ollama import checks
from suites.ollama.recorded import RecordedOllama

pytestmark = [pytest.mark.level("standard")]


def _log(ollama):
    """The server's log, parsed, when one was given (--ollama-log) or spawned; None otherwise."""
    if ollama.log_path is None:
        return None
    try:
        return parse_ollama_log(ollama.log_path.read_text(errors="replace"))
    except OSError:
        return None  # test_server_log says why


def test_service_environment(system, target, request, check):
    """the ollama service has the HSA override this GPU needs."""
    try:  # the server's version says which ROCm kernels its build carries (runtimes.toml)
        version: str | None = request.getfixturevalue("ollama").version
    except pytest.skip.Exception:
        version = None
    bundled = None if system.recorded else ollama_bundled_targets()  # a recording's files are not this host's
    check(checks.service_environment(system, target, version, bundled))


def test_server_version(ollama, target, request, check):
    """the ollama server's version has no known issue on this GPU."""
    verdict = checks.server_version(ollama.version, target)
    ids = [i.id for i in checks.issues_for(ollama.version, target)]
    if ids:
        request.applymarker(pytest.mark.known_issue(*ids))
    check(verdict)


def test_service_igpu_enabled(ollama, system, target, check):
    """the ollama server keeps the integrated GPU (OLLAMA_IGPU_ENABLE where the release needs it)."""
    env, where = checks.server_environment(system, ollama.spawned_env)
    log = _log(ollama)
    if log is not None and log.server_env:
        env, where = log.server_env, "the server's `server config` log line"
    check(checks.igpu_enabled(target, ollama.version, env, where))


def test_model_fully_on_gpu(ollama, ollama_load, system, target, request, check):
    """the model is loaded fully on the GPU."""
    env, where = checks.server_environment(system, ollama.spawned_env)
    verdict, ids = checks.offload(ollama_load.model, ollama_load.loaded, system, target, ollama.version,
                                  _log(ollama), env, where)
    if ids:
        request.applymarker(pytest.mark.known_issue(*ids))
    check(verdict)


def test_generation_speed(ollama, ollama_load, target, check):
    """generation speed against the memory-bandwidth bound."""
    from fixtures.verdict import not_applicable

    if isinstance(ollama.client, RecordedOllama) and "eval_count" not in ollama_load.answer:
        return check(not_applicable("generation speed against the memory-bandwidth bound",
                                    "the recorded machine has no generation timings"))
    check(checks.speed(ollama_load.answer, ollama_load.loaded, target))


def test_server_log(ollama, ollama_load, target, check):
    """the ollama log shows the GPU found and the layers offloaded."""
    from fixtures.verdict import not_applicable

    if ollama.log_path is None:
        return check(not_applicable("the ollama log shows the GPU found and the layers offloaded",
                                    "no log: give --ollama-log FILE (journalctl -u ollama) or use --ollama-spawn"))
    try:
        text = ollama.log_path.read_text(errors="replace")
    except OSError as exc:
        return check(not_applicable("the ollama log shows the GPU found and the layers offloaded",
                                    f"{ollama.log_path} could not be read: {exc}"))
    check(checks.server_log(parse_ollama_log(text), target))
