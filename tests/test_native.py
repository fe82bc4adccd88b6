"""Native kernels per runtime, and the HSA override judged for each (issue 10): the system ROCm
by its rocBLAS files, a PyTorch wheel by its arch list and bundled rocBLAS, ollama by its
bundled rocBLAS or its version.  Each combination of native/override passes or fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.native import library_targets, ollama_build, ollama_bundled_targets, targets_in, torch_wheel
from fixtures.target import Target
from fixtures.knowledge.tables import archs
from fixtures.unknown import Unknown
from fixtures.verdict import FAIL, NOT_APPLICABLE, PASS
from suites.kernel.checks import judge_override
from suites.torch.checks import override_for_wheel
from suites.torch.device import DeviceFacts

GFX1103 = Target("gfx1103", "gfx1103", archs()["gfx1103"], None, True, "test")
ROCM_WHEEL_63 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101", "gfx1102")
ROCM_WHEEL_71 = ROCM_WHEEL_63 + ("gfx1103", "gfx1150", "gfx1151", "gfx1200", "gfx1201")


def rocblas_dir(tmp_path: Path, *gfx: str) -> Path:
    lib = tmp_path / "rocblas" / "library"
    lib.mkdir(parents=True)
    for g in gfx:
        (lib / f"TensileLibrary_lazy_{g}.dat").write_text("")
        (lib / f"Kernels.so-000-{g}.hsaco").write_text("")
    return lib


def test_library_files_name_the_targets(tmp_path):
    assert library_targets(rocblas_dir(tmp_path, "gfx1100", "gfx1103")) == ("gfx1100", "gfx1103")
    assert library_targets(tmp_path / "missing") is None
    assert targets_in(["TensileLibrary_Type_HH_Contraction_l_Ailk_Bjlk_Cijk_Dijk_gfx1151.co"]) == ("gfx1151",)


@pytest.mark.parametrize("arch_list, bundled, override, status, words", [
    (ROCM_WHEEL_71, ("gfx1100", "gfx1103"), None, PASS, "compiled for"),                  # native, none
    (ROCM_WHEEL_71, ("gfx1100", "gfx1103"), "11.0.0", FAIL, "remove HSA_OVERRIDE_GFX_VERSION"),  # native + override
    (ROCM_WHEEL_63, ("gfx1100",), "11.0.0", PASS, "11.0.0 (gfx1100)"),                     # not native, good override
    (ROCM_WHEEL_63, ("gfx1100",), None, FAIL, "HSA_OVERRIDE_GFX_VERSION=11.0.0"),           # not native, none
    (ROCM_WHEEL_71, ("gfx1100",), None, FAIL, "bundled rocBLAS ships gfx1100"),             # kernels, no rocBLAS
    (ROCM_WHEEL_63, None, "10.3.0", FAIL, "gfx1030 code on a gfx1103"),                     # wrong family
])
def test_the_wheel_override_by_its_own_kernels(arch_list, bundled, override, status, words):
    facts = DeviceFacts("2.9.1+rocm7.1", "7.1.25424", None, "cuda", name="AMD Radeon 780M Graphics",
                        arch="gfx1100" if override == "11.0.0" else "gfx1103", arch_list=arch_list)
    verdict = override_for_wheel(facts, GFX1103, override, bundled)
    assert verdict.status == status, verdict.message()
    assert words in verdict.message(), verdict.message()
    assert "(the PyTorch wheel)" in verdict.check


def test_the_wheel_on_the_cpu_is_not_judged():
    facts = DeviceFacts("2.13.0+cpu", None, None, "cpu")
    assert override_for_wheel(facts, GFX1103, "11.0.0", None).status == NOT_APPLICABLE


def test_ollama_by_its_files_then_by_its_version(tmp_path):
    base = tmp_path / "lib" / "ollama"
    rocblas_dir(base / "rocm", "gfx1100", "gfx1103")
    bundled = ollama_bundled_targets([str(tmp_path / "nowhere"), str(base)])
    assert bundled == (("gfx1100", "gfx1103"), str(base / "rocm" / "rocblas" / "library"))
    by_files = ollama_build("gfx1103", "0.32.0", bundled)  # files win over the version
    assert by_files.native is True and "ollama's rocBLAS in" in by_files.evidence
    # runtimes.toml: ollama's ROCm build carried gfx1103 from 0.18.0 until 0.31.2 removed it
    assert ollama_build("gfx1103", "0.20.3", None).native is True
    assert ollama_build("gfx1103", "0.32.15", None).native is False
    assert ollama_build("gfx1103", "0.6.8", None).native is False
    assert ollama_build("gfx1103", None, None).native is None


def test_ollama_override_judged_on_its_service_environment():
    native = ollama_build("gfx1103", "0.25.0", None)
    verdict = judge_override(native, "11.0.0", GFX1103)
    assert verdict.status == FAIL and "ollama.service's environment" in verdict.remedy
    assert verdict.fix and verdict.fix[0].group == "service-env" and verdict.rests_on == ("ollama",)
    older = judge_override(ollama_build("gfx1103", "0.12.0", None), None, GFX1103)
    assert older.status == FAIL and "HSA_OVERRIDE_GFX_VERSION=11.0.0" in older.remedy
    assert judge_override(ollama_build("gfx1103", "0.12.0", None), "11.0.0", GFX1103).status == PASS


def test_unreadable_library_folder_is_unknown(tmp_path):
    folder = tmp_path / "library"
    folder.write_text("not a folder")
    found = library_targets(folder)
    assert isinstance(found, Unknown) and str(folder) in found.why
