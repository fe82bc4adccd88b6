"""Every kernel check, on a recorded machine where it fails (with its remedy) and one
where it passes.  Variants of the recordings are derived in tmp_path."""

from __future__ import annotations

import json

import pytest

from fixtures.sizes import GIB
from fixtures.target import resolve_target
from fixtures.verdict import FAIL, NOT_APPLICABLE, PASS
from suites.kernel import checks
from tests.helpers import MACHINES

OVERRIDE_10 = {"env": {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}}
NO_OVERRIDE = {"env": {}}
GTTSIZE = {"/sys/module/amdgpu/parameters/gttsize": "131072\n"}
DKMS = {"/sys/module/ttm": None, "/sys/module/amdttm/parameters/pages_limit": "12582912\n",
        "/sys/module/amdttm/parameters/page_pool_size": "12582912\n"}
NOT_LOADED = {"/sys/module/amdgpu": None, "/sys/class/drm": None, "/sys/class/kfd": None,
              "/sys/bus/pci/devices/0000:c5:00.0/uevent": "PCI_SLOT_NAME=0000:c5:00.0\n"}
HUGE_GTT = {"/sys/module/ttm/parameters/pages_limit": "15990000\n",
            "/sys/class/drm/card1/device/mem_info_gtt_total": f"{15990000 * 4096}\n"}
BIG_CARVEOUT = {"/sys/class/drm/card1/device/mem_info_vram_total": f"{96 * GIB}\n",
                "/proc/meminfo": "MemTotal:       32505856 kB\n"}
# capture torch-gfx1151-rocm6004: amdgpu.gttsize=131072 gives 128 GiB of GTT, ROCm still sees the TTM limit
GTTSIZE_OVER_TTM = {"/sys/module/amdgpu/parameters/gttsize": "131072\n",
                    "/sys/class/drm/card1/device/mem_info_gtt_total": f"{128 * GIB}\n"}
GTT_MISMATCH = {"/sys/class/drm/card1/device/mem_info_gtt_total": f"{8 * GIB}\n"}
BAD_LINE = {"/etc/modprobe.d/ttm.conf": "options ttm pages_limit=12582912 page_pool_size=12582912 pagelimit=5\n"}
NOT_CONF = {"/etc/modprobe.d/ttm.conf": None, "/etc/modprobe.d/ttm": "options ttm pages_limit=12582912\n"}
GTT_SIZE_TYPO = {"/proc/cmdline": "BOOT_IMAGE=/boot/vmlinuz ro quiet amdgpu.gtt_size=122880\n"}
NOMODESET = {**NOT_LOADED, "/proc/cmdline": "BOOT_IMAGE=/boot/vmlinuz ro nomodeset\n"}
NO_ROCBLAS = {"/opt/rocm/lib/rocblas": None}
JOINED_NOT_EFFECTIVE = {"user": {"name": "user", "groups": ["user", "video"], "configured_groups": ["user", "video", "render"]}}
ROCMINFO_GFX1030 = {"commands": {"rocminfo": {"returncode": 0, "stdout": "  Name: gfx1030\n  Device Type: GPU\n"}}}


def run(check, root, min_gtt=None, rocm=None):
    from fixtures.machine import RecordedMachine
    from fixtures.probe import probe

    profile = probe(RecordedMachine(root))
    target = resolve_target("auto", profile)
    args = {"amdgpu_driver": (profile,), "modprobe_in_effect": (profile,), "modprobe_lines_ignored": (profile,),
            "gttsize_not_deprecated": (profile,), "kfd_access": (profile,), "rocm_version": (profile, rocm),
            "gtt_at_least": (profile, target, min_gtt)}.get(check, (profile, target))
    return getattr(checks, check)(*args)


# check, machine, (file changes, sidecar changes), options, expected status, words in found/remedy
CASES = [
    ("amdgpu_driver", "780m-good", None, {}, PASS, ""),
    ("amdgpu_driver", "780m-good", (NOT_LOADED, {}), {}, FAIL, "sudo modprobe amdgpu"),
    ("amdgpu_driver", "780m-good", (NOMODESET, {}), {}, FAIL, "remove nomodeset"),
    ("kernel_supports_gtt", "780m-good", None, {}, PASS, ""),
    ("kernel_supports_gtt", "780m-kernel-6.8", None, {}, FAIL, "kernel >= 6.10"),
    ("kernel_supports_gtt", "rx7900xtx", None, {}, NOT_APPLICABLE, "not an APU"),
    ("ttm_matches_gtt", "780m-good", None, {}, PASS, ""),
    ("ttm_matches_gtt", "strix-halo-cmdline", None, {}, PASS, ""),
    ("ttm_matches_gtt", "780m-good", (GTT_MISMATCH, {}), {}, FAIL, "options ttm pages_limit"),
    ("ttm_matches_gtt", "780m-good", (GTTSIZE, {}), {}, FAIL, "amdgpu.gttsize=131072"),
    ("ttm_matches_gtt", "strix-halo-cmdline", (GTTSIZE_OVER_TTM, {}), {}, FAIL, "ROCm sees 96.0 GiB"),
    ("modprobe_in_effect", "780m-good", None, {}, PASS, ""),
    ("modprobe_in_effect", "780m-kernel-6.8", None, {}, PASS, "no TTM limits configured"),
    ("modprobe_in_effect", "780m-ttm-not-in-effect", None, {}, FAIL, "update-initramfs"),
    ("modprobe_in_effect", "780m-good", (DKMS, {}), {}, FAIL, "options amdttm"),
    ("modprobe_lines_ignored", "780m-good", None, {}, PASS, ""),
    ("modprobe_lines_ignored", "780m-ttm-missing-options", None, {}, FAIL, "ignoring bad line starting with 'ttm'"),
    ("modprobe_lines_ignored", "780m-good", (BAD_LINE, {}), {}, FAIL, "no parameter pagelimit"),
    ("modprobe_lines_ignored", "780m-good", (NOT_CONF, {}), {}, FAIL, "only files ending in .conf"),
    ("modprobe_lines_ignored", "780m-good", (GTT_SIZE_TYPO, {}), {}, FAIL, "did you mean amdgpu.gttsize"),
    ("gttsize_not_deprecated", "780m-good", None, {}, PASS, ""),
    ("gttsize_not_deprecated", "strix-halo-cmdline", (GTTSIZE, {}), {}, FAIL, "ttm pages_limit"),
    ("gttsize_not_deprecated", "780m-good", (GTTSIZE, {}), {}, PASS, "before kernel 6.15"),
    ("gtt_at_least", "780m-good", None, {"min_gtt": 32 * GIB}, PASS, ""),
    ("gtt_at_least", "780m-ttm-not-in-effect", None, {"min_gtt": 32 * GIB}, FAIL, "pages_limit=8388608"),
    ("gtt_at_least", "780m-good", None, {}, NOT_APPLICABLE, "no --min-gtt"),
    ("gtt_leaves_host_memory", "780m-good", None, {}, PASS, ""),
    ("gtt_leaves_host_memory", "780m-good", (HUGE_GTT, {}), {}, FAIL, "lower it"),
    ("vram_carveout", "780m-good", None, {}, PASS, "small carve-out"),
    ("vram_carveout", "780m-good", (BIG_CARVEOUT, {}), {}, FAIL, "UMA frame buffer"),
    ("kfd_access", "780m-good", None, {}, PASS, ""),
    ("kfd_access", "780m-no-render-group", None, {}, FAIL, "usermod -aG render"),
    ("kfd_access", "780m-no-render-group", ({}, JOINED_NOT_EFFECTIVE), {}, FAIL, "log out and back in"),
    ("render_node_access", "780m-good", None, {}, PASS, "renderD128"),
    ("render_node_access", "780m-no-render-group", None, {}, FAIL, "usermod -aG render"),
    ("kfd_node_matches", "780m-good", None, {}, PASS, "node 1: gfx1103"),
    ("kfd_node_matches", "780m-good", ({"/sys/class/kfd": None}, {}), {}, FAIL, "no KFD topology"),
    ("hsa_override", "780m-good", None, {}, PASS, "11.0.0"),
    ("hsa_override", "rx7900xtx", None, {}, PASS, "ships"),
    ("hsa_override", "780m-good", ({}, NO_OVERRIDE), {}, FAIL, "HSA_OVERRIDE_GFX_VERSION=11.0.0"),
    ("hsa_override", "780m-good", ({}, OVERRIDE_10), {}, FAIL, "gfx1030 code on a gfx1103"),
    ("hsa_override", "780m-good", ({}, {"env": {"HSA_OVERRIDE_GFX_VERSION": "eleven"}}), {}, FAIL, "not major.minor"),
    ("hsa_override", "780m-good", (NO_ROCBLAS, NO_OVERRIDE), {}, FAIL, "ROCm 6.2.4 is not >=7.1.0"),
    ("hsa_override", "780m-rocm-7.1-native", None, {}, PASS, "gfx1103, gfx1150"),
    ("hsa_override", "780m-rocm-7.1-override", None, {}, FAIL, "1536 vector registers per SIMD; a gfx1103 has 1024"),
    ("hsa_override", "780m-rocm-7.1-native", ({}, {"env": {"HSA_OVERRIDE_GFX_VERSION": "11.0.3"}}), {}, PASS, "11.0.3"),
    ("rocm_version", "780m-good", None, {"rocm": ">=6.2"}, PASS, ""),
    ("rocm_version", "780m-good", None, {"rocm": ">=7"}, FAIL, "matching >=7"),
    ("rocm_version", "no-amd-gpu", None, {"rocm": ">=6"}, FAIL, "install ROCm"),
    ("rocm_version", "780m-good", None, {}, NOT_APPLICABLE, "no --rocm"),
    ("rocminfo_sees_gpu", "780m-good", None, {}, PASS, ""),
    ("rocminfo_sees_gpu", "780m-no-render-group", None, {}, FAIL, "Permission denied"),
    ("rocminfo_sees_gpu", "780m-good", ({}, ROCMINFO_GFX1030), {}, FAIL, "gfx1030"),
]


@pytest.mark.parametrize("check, machine, change, options, status, words", CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_check(derive, check, machine, change, options, status, words):
    root = derive(machine, *change) if change else MACHINES / machine
    verdict = run(check, root, **options)
    text = json.dumps(verdict.as_dict())
    assert verdict.status == status, verdict.message()
    assert words in text, verdict.message()
    if status == FAIL:
        assert verdict.remedy, f"{check} fails without a remedy"


def test_every_check_has_a_failing_and_a_passing_case():
    names = [n for n in dir(checks) if callable(getattr(checks, n)) and not n.startswith("_")
             and getattr(getattr(checks, n), "__module__", "") == checks.__name__
             and n not in ("target_card", "generation", "expected_gtt", "native_support", "judge_override")]
    for name in names:
        statuses = {c[4] for c in CASES if c[0] == name}
        assert {PASS, FAIL} <= statuses, f"{name} lacks a {'failing' if FAIL not in statuses else 'passing'} case"
