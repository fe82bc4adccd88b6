"""Fixtures of the hf suite: offline by default, the model resolved locally, the CPU
reference computed once.  transformers is imported inside fixtures only."""

from __future__ import annotations

import os
from typing import Any

import pytest

from plugins.skips import skip_here
from plugins.state import run_state
from suites.hf.models import ModelUnavailable, ResolvedModel, resolve_model

OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
REPORTED_VARS = ("HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME")


@pytest.fixture(scope="session")
def hf_env(pytestconfig: pytest.Config) -> dict[str, str]:
    """HF_HUB_OFFLINE=1 for the session unless --hf-online; the hub variables in effect."""
    online = pytestconfig.getoption("hf_online")
    saved = {k: os.environ.get(k) for k in OFFLINE_VARS}
    if not online:
        for key in OFFLINE_VARS:
            os.environ[key] = "1"
    yield {k: os.environ[k] for k in REPORTED_VARS if k in os.environ}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def transformers_module(hf_env: dict[str, str], torch_module: Any) -> Any:
    try:
        import transformers
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything
        skip_here(f"transformers could not be imported: {type(exc).__name__}: {exc}")
    transformers.logging.set_verbosity_error()
    return transformers


@pytest.fixture(scope="session")
def hf_model(pytestconfig: pytest.Config, transformers_module: Any) -> ResolvedModel:
    try:
        return resolve_model(run_state(pytestconfig).options.hf_model)
    except ModelUnavailable as exc:
        skip_here(str(exc))


@pytest.fixture(scope="session")
def reference_embeddings(torch_cpu_module: Any, hf_model: ResolvedModel) -> Any:
    """The CPU's float32 embeddings: the reference every device and dtype is held to."""
    from suites.hf.models import embeddings

    return embeddings(torch_cpu_module, hf_model.path, "cpu", "float32")[0]
