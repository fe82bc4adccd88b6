"""Fixtures of the onnxruntime suite; onnxruntime and onnx are imported inside fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.skips import skip_here
from plugins.state import run_state


@pytest.fixture(scope="session")
def ort(pytestconfig: pytest.Config, live_machine: None) -> Any:
    try:
        import onnxruntime
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything
        skip_here(f"onnxruntime could not be imported: {type(exc).__name__}: {exc}")
    # ONNX Runtime sends telemetry events (seen here: a connection to
    # mobile.events.data.microsoft.com); an offline conformance run must not phone home.
    if hasattr(onnxruntime, "disable_telemetry_events"):
        onnxruntime.disable_telemetry_events()
    run_state(pytestconfig).component_versions["onnxruntime"] = onnxruntime.__version__
    return onnxruntime


@pytest.fixture(scope="session")
def onnx_module() -> Any:
    try:
        import onnx
    except Exception as exc:  # noqa: BLE001
        skip_here(f"onnx could not be imported ({type(exc).__name__}: {exc}): pip install onnx")
    return onnx
