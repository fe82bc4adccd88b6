"""Fixtures of the ollama suite: the server (given, from OLLAMA_HOST, or spawned), the
model, and one load of it whose /api/ps and timings every check reads.  The server is
left as found: a model this suite loaded is unloaded afterwards."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.parsers.ollama import LoadedModel
from plugins.skips import skip_here
from plugins.state import run_state
from suites.ollama.client import OllamaClient, OllamaError, url_from_env
from suites.ollama.recorded import RecordedOllama, recorded_server
from suites.ollama.spawn import SpawnError, spawn

PROMPT = "Explain in one sentence what GTT memory is on an AMD APU."


@dataclass
class Server:
    client: OllamaClient | RecordedOllama
    version: str
    log_path: Path | None
    spawned_env: dict[str, str] | None


@dataclass
class Load:
    model: str
    size_bytes: int | None
    loaded: LoadedModel | None
    answer: dict[str, Any]
    was_loaded_before: bool


@pytest.fixture(scope="session")
def ollama(pytestconfig: pytest.Config) -> Server:
    state = run_state(pytestconfig)
    url = pytestconfig.getoption("ollama_url")
    timeout = pytestconfig.getoption("ollama_timeout")
    if pytestconfig.getoption("ollama_spawn"):
        arch = state.target.arch
        try:
            server = spawn(Path(state.options.report_dir or Path(pytestconfig.rootpath) / "reports"),
                           arch.hsa_override if arch and arch.hsa_override else None)
        except SpawnError as exc:
            skip_here(str(exc))
        pytestconfig.add_cleanup(server.stop)
        client, log, env = OllamaClient(server.url, timeout), server.log_path, {**os.environ, **server.env}
    else:
        given_log = Path(pytestconfig.getoption("ollama_log")) if pytestconfig.getoption("ollama_log") else None
        replay = recorded_server(state.options.sysroot) if url is None and state.profile.recorded else None
        if url is None and state.profile.recorded and replay is None:
            skip_here("replaying a recorded machine (--sysroot): give --ollama-url to test a server")
        if replay is not None:
            client, env, log = replay[0], None, given_log or replay[1]
        else:
            client, env, log = OllamaClient(url or url_from_env(os.environ.get("OLLAMA_HOST")), timeout), None, given_log
    try:
        version = client.version()
    except OllamaError as exc:
        skip_here(f"no ollama server: {exc}")
    state.component_versions["ollama"] = version
    return Server(client, version, log, env)


@pytest.fixture(scope="session")
def ollama_model(ollama: Server, pytestconfig: pytest.Config) -> str:
    chosen = pytestconfig.getoption("ollama_model")
    try:
        models = ollama.client.tags()
    except OllamaError as exc:
        skip_here(f"the model list failed: {exc}")
    names = {m.get("name") or m.get("model"): m for m in models}
    if chosen:
        if chosen not in names and f"{chosen}:latest" not in names:
            skip_here(f"--ollama-model {chosen} is not on {ollama.client.url} (has: {', '.join(map(str, names)) or 'none'}); "
                      f"ollama pull {chosen}")
        return chosen
    if not names:
        skip_here(f"no model pulled on {ollama.client.url}: ollama pull qwen2.5:0.5b (or give --ollama-model)")
    return min(names, key=lambda n: names[n].get("size") or 0)


@pytest.fixture(scope="session")
def ollama_load(ollama: Server, ollama_model: str) -> Load:
    """Load the model once (a short generate), read /api/ps, unload at the end if we loaded it."""
    client = ollama.client
    try:
        before = {m.name for m in client.ps()}
        answer = client.generate(ollama_model, PROMPT)
        loaded = next((m for m in client.ps() if m.name in (ollama_model, f"{ollama_model}:latest")), None)
    except OllamaError as exc:
        pytest.fail(f"loading {ollama_model} failed: {exc}", pytrace=False)
    size = loaded.size if loaded else None
    load = Load(ollama_model, size, loaded, answer, ollama_model in before)
    yield load
    if not load.was_loaded_before:
        try:
            client.unload(ollama_model)
        except OllamaError:
            pass
