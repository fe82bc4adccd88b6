"""Every ollama log generation, one self-test each, on excerpts of logs users posted
(tests/data/ollama-logs: the header of each names the URL)."""

from __future__ import annotations

from pathlib import Path

from fixtures.parsers.ollama import GENERATIONS, parse_ollama_log

LOGS = Path(__file__).parent / "data" / "ollama-logs"


def log(name: str):
    text = (LOGS / name).read_text()
    header, _, body = text.partition("# ---\n")
    assert header.startswith("# source: https://"), f"{name} must name where it was posted"
    return parse_ollama_log(body)


def test_2023_llm_load_tensors():
    parsed = log("2023-llm-load-tensors.txt")
    assert (parsed.offloaded, parsed.layers) == (43, 43) and parsed.generations == ("llm_load_tensors",)


def test_0_1_memory_go_offload_to_gpu():
    parsed = log("0.1-memory-go-offload-to-gpu.txt")
    assert parsed.offloaded == 23 and parsed.layers is None and parsed.generations == ("memory.go",)


def test_server_go_offload():
    parsed = log("0.12-server-go-offload.txt")
    assert (parsed.offloaded, parsed.layers) == (5, 67) and parsed.generations == ("server.go",)


def test_0_12_model_weights_all_on_cpu_is_zero_layers():
    parsed = log("0.12-device-go-model-weights-cpu.txt")
    assert parsed.weights == (("CPU", "6.8 GiB"),) and parsed.weights_on_cpu_only
    assert (parsed.offloaded, parsed.layers) == (0, 41)


def test_0_12_model_weights_on_the_gpu():
    parsed = log("0.12-backend-go-model-weights-gpu.txt")
    assert (parsed.offloaded, parsed.layers) == (37, 37) and not parsed.weights_on_cpu_only
    assert ("ROCm0", "7.5 GiB") in parsed.weights


def test_0_30_llama_server_output():
    assert log("0.30-llama-server.txt").generations == ("llama-server",)


def test_0_30_server_config_says_what_the_server_read():
    env = log("0.30-server-config-igpu-enabled.txt").server_env
    assert env["OLLAMA_IGPU_ENABLE"] == "1" and env["HSA_OVERRIDE_GFX_VERSION"] == ""


def test_0_30_dropping_integrated_gpu():
    parsed = log("0.30-dropping-integrated-gpu.txt")
    (dropped,) = parsed.dropped_igpus
    assert dropped["library"] == "ROCm" and dropped["description"] == "AMD Radeon 890M Graphics"
    assert parsed.generations == ("igpu-drop",) and "OLLAMA_IGPU_ENABLE=1" in parsed.quotes[0]


def test_unsupported_gpu_both_spellings():
    assert log("0.12-amdgpu-not-supported.txt").unsupported == ("gfx1103",)
    from tests.helpers import capture_body

    assert parse_ollama_log(capture_body("ollama-log-gfx1103-ollama4099.txt")).unsupported == ("gfx1103",)


def test_runtime_errors():
    assert log("runtime-rocm-out-of-memory.txt").runtime_errors == ("ROCm error: out of memory",)
    crashed = log("runtime-invalid-device-function.txt")  # journald lines without a host name
    assert crashed.runtime_errors == ("ROCm error: invalid device function",)
    assert crashed.generations == ("runtime-error",)


def test_inference_compute_sizes():
    (device,) = log("0.11-inference-compute-gfx1103.txt").devices
    assert device["compute"] == "gfx1103" and device["total"] == "16.0 GiB"


def test_every_generation_has_an_excerpt():
    seen = {g for f in LOGS.glob("*.txt") for g in log(f.name).generations}
    assert seen == set(GENERATIONS)
