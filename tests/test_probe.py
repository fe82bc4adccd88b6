"""The probe reads recorded machines faithfully and never raises, whatever it finds."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.machine import LiveMachine, RecordedMachine
from fixtures.probe import probe
from fixtures.sizes import GIB
from fixtures.unknown import Unknown
from tests.helpers import MACHINES, machine_names


def test_at_least_eight_recorded_machines():
    assert len(machine_names()) >= 8


@pytest.mark.parametrize("name", machine_names())
def test_every_recorded_machine_probes(recorded, name):
    profile = recorded(name)
    assert profile.recorded and not isinstance(profile.kernel.release, Unknown)
    assert not isinstance(profile.user, Unknown)


def test_780m_good_facts(recorded):
    p = recorded("780m-good")
    assert str(p.kernel.release.version) == "6.11.0"
    (gpu,) = p.gpu_nodes
    assert gpu.gfx == "gfx1103" and gpu.drm_render_minor == 128 and gpu.local_mem_bytes == 48 * GIB
    (card,) = p.amd_cards
    assert card.name == "card1" and card.gtt_total == 48 * GIB and card.vram_total == 512 * 1024**2
    assert p.ttm.name == "ttm" and p.ttm.int_param("pages_limit") == 12582912
    assert str(p.rocm.version) == "6.2.4" and "gfx1103" not in p.rocm.rocblas_targets
    assert p.env == {"HSA_OVERRIDE_GFX_VERSION": "11.0.0"}
    assert [a.name for a in p.rocminfo if a.is_gpu] == ["gfx1103"]
    assert p.device_node("/dev/kfd").read_write is True and "render" in p.user.groups


def test_strix_halo_cmdline_facts(recorded):
    p = recorded("strix-halo-cmdline")
    assert p.kernel.cmdline_params["ttm"]["pages_limit"] == "25165824"
    assert p.gpu_nodes[0].gfx == "gfx1151" and p.amd_cards[0].gtt_total == 96 * GIB


def test_no_amd_gpu(recorded):
    p = recorded("no-amd-gpu")
    assert not p.has_amd_hardware and isinstance(p.kfd_nodes, Unknown)
    assert "does not exist" in p.kfd_nodes.why and isinstance(p.rocm.version, Unknown)


def test_live_machine_probe_never_raises():
    profile = probe(LiveMachine())
    assert profile.root == "/" and not profile.recorded


def test_bare_tree_without_sidecar(tmp_path):
    shutil.copytree(MACHINES / "780m-good", tmp_path / "m")
    (tmp_path / "m" / "machine.json").unlink()
    p = probe(RecordedMachine(tmp_path / "m"))
    assert isinstance(p.user, Unknown) and "does not exist" in p.user.why
    assert p.device_nodes == () and isinstance(p.rocminfo, Unknown)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", json.dumps({"user": "x", "device_nodes": [1, {"path": 3}],
                                                                      "env": [], "commands": {"rocminfo": 5},
                                                                      "page_size": "big"})])
def test_garbled_sidecar(tmp_path, content):
    shutil.copytree(MACHINES / "780m-good", tmp_path / "m")
    (tmp_path / "m" / "machine.json").write_text(content)
    p = probe(RecordedMachine(tmp_path / "m"))
    assert isinstance(p.user, Unknown) and p.page_size == 4096 and p.env == {}


def test_directory_where_a_file_belongs(tmp_path):
    shutil.copytree(MACHINES / "780m-good", tmp_path / "m")
    target = tmp_path / "m" / "proc" / "meminfo"
    target.unlink()
    target.mkdir()
    p = probe(RecordedMachine(tmp_path / "m"))
    assert isinstance(p.mem_total, Unknown) and "is a directory" in p.mem_total.why


def test_odd_kernel_string(derive):
    p = probe(RecordedMachine(derive("780m-good", {"/proc/sys/kernel/osrelease": "custom-kernel\n"})))
    assert isinstance(p.kernel.release, Unknown) and "custom-kernel" in p.kernel.release.why


FILES = sorted(str(p.relative_to(MACHINES / "780m-good")) for p in (MACHINES / "780m-good").rglob("*")
               if p.is_file() and p.name != "machine.json")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.dictionaries(st.sampled_from(FILES), st.binary(max_size=200), min_size=1, max_size=8))
def test_garbage_files_never_escape_the_probe(garbage):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "m"
        shutil.copytree(MACHINES / "780m-good", root)
        for rel, data in garbage.items():
            (root / rel).write_bytes(data)
        profile = probe(RecordedMachine(root))
        assert profile.recorded
