"""The offload diagnosis: each cause a-e is the diagnosis on its evidence, and is ruled out
by a different cause's evidence; undecided evidence names what is missing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.parsers.ollama import parse_ollama_log
from fixtures.sizes import GIB, MIB
from fixtures.target import resolve_target
from suites.ollama.diagnosis import LOG_HINT, Evidence, diagnose

LOGS = Path(__file__).parent / "data" / "ollama-logs"
SIZE = 5 * GIB  # a model that fits a 780M's 48 GiB GTT


def posted(name: str):
    return parse_ollama_log((LOGS / name).read_text().partition("# ---\n")[2])


@pytest.fixture
def m780(recorded):
    return resolve_target("auto", recorded("780m-good"))


@pytest.fixture
def strix(recorded):
    return resolve_target("auto", recorded("strix-halo-cmdline"))


def ev(target, version="0.32.15", size_vram=0, **kw) -> Evidence:
    base = dict(version=version, target=target, size=SIZE, size_vram=size_vram, free=48 * GIB, margin=GIB,
                vram_total=512 * MIB, env={"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}, env_where="ollama.service")
    return Evidence(**{**base, **kw})


# -- a: iGPU dropped by the server's default -------------------------------------------------

def test_a_from_version_and_service_environment(m780):
    d = diagnose(ev(m780))
    assert d.cause == "a" and "OLLAMA_IGPU_ENABLE" in d.remedy and d.fix[0].group == "service-env"
    assert d.fix[0].edits == "/etc/systemd/system/ollama.service.d/apu-ollama-igpu-enable.conf" and d.fix[0].restart == ("ollama",)
    assert any("b: ollama 0.32.15 counts GTT" in r for r in d.ruled_out)


def test_a_from_the_dropping_line(m780):
    d = diagnose(ev(m780, env=None, log=posted("0.30-dropping-integrated-gpu.txt")))
    assert d.cause == "a" and "dropping integrated GPU" in d.evidence[0]


def test_a_ruled_out_by_a_gpu_share_the_carveout_explains(m780):
    """On 0.6.6 with 512 MiB on the GPU, the GPU was not dropped: b's evidence decides."""
    d = diagnose(ev(m780, version="0.6.6", size_vram=512 * MIB))
    assert d.cause == "b" and any(r.startswith("a: 512.0 MiB is on the GPU") for r in d.ruled_out)


def test_a_not_when_the_variable_is_set(m780):
    d = diagnose(ev(m780, env={"OLLAMA_IGPU_ENABLE": "1", "HSA_OVERRIDE_GFX_VERSION": "11.0.0"}))
    assert d.cause != "a" and any("OLLAMA_IGPU_ENABLE=1 in the server's environment" in r for r in d.ruled_out)


# -- b: sized by the carve-out ---------------------------------------------------------------

def test_b_on_0_6_names_the_fixed_release(m780):
    d = diagnose(ev(m780, version="0.6.6", size_vram=512 * MIB))
    assert d.cause == "b" and "ollama-5471" in d.issues and "0.14.0" in d.remedy
    assert [s.group for s in d.fix] == ["packages", "service-env"]  # upgrade, then today's iGPU variable


def test_b_ruled_out_by_an_unsupported_arch_line(m780):
    d = diagnose(ev(m780, version="0.6.6", size_vram=512 * MIB, log=posted("0.12-amdgpu-not-supported.txt")))
    assert d.cause == "c"


def test_b_on_the_regression_range_needs_the_log(m780):
    """0.14.0-0.24.0 count GTT in the memory figure; only a carve-out-sized GPU in the log names ollama-15385."""
    d = diagnose(ev(m780, version="0.20.0", size_vram=400 * MIB, env={}))
    assert d.cause is None and LOG_HINT in d.missing
    carve = ev(m780, version="0.20.0", size_vram=400 * MIB, vram_total=16 * GIB,
               log=posted("0.11-inference-compute-gfx1103.txt"))
    d = diagnose(carve)
    assert d.cause == "b" and d.issues == ("ollama-15385",) and "sized the GPU at 16.0 GiB" in d.evidence[1]


# -- c: arch not in ollama's ROCm --------------------------------------------------------------

def test_c_from_the_log(m780):
    d = diagnose(ev(m780, env=None, log=posted("runtime-invalid-device-function.txt")))
    assert d.cause == "c" and "HSA_OVERRIDE_GFX_VERSION=11.0.0" in d.remedy and "invalid device function" in d.evidence[0]


def test_c_from_the_release_build_and_no_override(m780):
    """0.32.15's ROCm build no longer has gfx1103 (runtimes.toml) and the service sets no override."""
    d = diagnose(ev(m780, env={"OLLAMA_IGPU_ENABLE": "1"}))
    assert d.cause == "c" and "0.18.0" in d.remedy


def test_c_ruled_out_by_the_igpu_drop_line(m780):
    d = diagnose(ev(m780, version="0.30.0", env=None, log=posted("0.30-dropping-integrated-gpu.txt")))
    assert d.cause == "a" and any(r.startswith("c: ollama 0.30.0's ROCm build has gfx1103") for r in d.ruled_out)


# -- d: genuinely too big ----------------------------------------------------------------------

def test_d_is_a_correct_partial_offload_and_says_how_much_is_missing(m780):
    d = diagnose(ev(m780, size=60 * GIB, size_vram=40 * GIB))
    assert d.cause == "d" and not d.failure and "13.0 GiB more GPU memory" in d.remedy


def test_d_ruled_out_when_the_model_fits(m780):
    d = diagnose(ev(m780))
    assert d.cause == "a" and any(r.startswith("d: 5.0 GiB fits") for r in d.ruled_out)


# -- e: gfx1151 free-memory over-report ---------------------------------------------------------

def test_e_from_an_out_of_memory_crash_on_gfx1151(strix):
    d = diagnose(ev(strix, size_vram=30 * GIB, log=posted("runtime-rocm-out-of-memory.txt"), free=90 * GIB))
    assert d.cause == "e" and "ollama-16416" in d.issues and "OLLAMA_GPU_OVERHEAD" in d.remedy


def test_e_ruled_out_by_the_igpu_drop(strix):
    """OLLAMA_IGPU_ENABLE=0 drops even the 8060S: a's evidence, not e's."""
    d = diagnose(ev(strix, free=90 * GIB, env={"OLLAMA_IGPU_ENABLE": "0"}))
    assert d.cause == "a" and "drops every integrated GPU" in d.evidence[0]


def test_e_not_on_a_780m(m780):
    d = diagnose(ev(m780, size_vram=3 * GIB, log=posted("runtime-rocm-out-of-memory.txt")))
    assert any(r.startswith("e: the over-report affects gfx1151") for r in d.ruled_out)


# -- undecided -------------------------------------------------------------------------------

def test_missing_evidence_is_named(m780):
    d = diagnose(ev(m780, env=None))
    assert d.cause is None and LOG_HINT in d.missing
    assert any("server's environment" in m for m in d.missing)
    assert "missing evidence" in d.text()


def test_diagnosis_is_pure_data(m780):
    d = diagnose(ev(m780))
    assert replace(d) == d and d.text().startswith("cause a:")


def test_both_a_and_c_on_todays_release_without_either_variable(m780):
    """0.32.15, no OLLAMA_IGPU_ENABLE and no override: the iGPU is dropped (a), and once it is
    kept its arch has no kernels in 0.32's ROCm build (c): both remedies, a first."""
    d = diagnose(ev(m780, env={}))
    assert d.cause == "a" and d.also == ("cause c: the GPU's arch is not in ollama's bundled ROCm build and no "
                                         "override is set",)
    assert [s.edits.rsplit("/", 1)[-1] for s in d.fix] == ["apu-ollama-igpu-enable.conf", "apu-hsa-override-gfx-version.conf"]
