"""--apu resolution against recorded machines."""

from __future__ import annotations

import pytest

from fixtures.target import TargetError, resolve_target


@pytest.mark.parametrize("name, gfx, apu", [
    ("780m-good", "gfx1103", True), ("rx7900xtx", "gfx1100", False), ("strix-halo-cmdline", "gfx1151", True),
    ("no-amd-gpu", None, None),
])
def test_auto(recorded, name, gfx, apu):
    target = resolve_target("auto", recorded(name))
    assert target.gfx == gfx and target.apu is apu
    assert target.active is (gfx is not None)


def test_explicit_match(recorded):
    target = resolve_target("GFX1103", recorded("780m-good"))
    assert target.gfx == "gfx1103" and "KFD node 1" in target.how


def test_unknown_target_lists_known(recorded):
    with pytest.raises(TargetError, match=r"unknown --apu target 'gfx9999'; known targets: .*gfx1103"):
        resolve_target("gfx9999", recorded("780m-good"))


def test_mismatch_is_one_line(recorded):
    with pytest.raises(TargetError) as exc:
        resolve_target("gfx1100", recorded("780m-good"))
    assert "\n" not in str(exc.value) and "gfx1103 (KFD node 1)" in str(exc.value)


def test_target_without_amd_gpu(recorded):
    with pytest.raises(TargetError, match="no AMD GPU was found"):
        resolve_target("gfx1103", recorded("no-amd-gpu"))


def test_none_switches_checks_off(recorded):
    target = resolve_target("none", recorded("780m-good"))
    assert not target.active and target.gfx is None


def test_hardware_without_driver_is_still_detected(recorded, derive):
    root = derive("780m-good", {"/sys/class/kfd": None, "/sys/class/drm": None, "/sys/module/amdgpu": None,
                                "/sys/bus/pci/devices/0000:c5:00.0/uevent": "PCI_SLOT_NAME=0000:c5:00.0\n"})
    target = resolve_target("auto", recorded(root))
    assert target.active and target.gfx == "gfx1103" and "PCI 0000:c5:00.0" in target.how
