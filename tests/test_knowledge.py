"""The knowledge tables load, cite sources and cover the archs the issue names."""

from __future__ import annotations

import pytest

from fixtures.knowledge import tables
from fixtures.knowledge.tables import KnowledgeError, archs, known_issues, platform_fact

REQUIRED = ["gfx1103", "gfx1150", "gfx1151", "gfx1035", "gfx1036", "gfx90c", "gfx1100", "gfx1101", "gfx1102",
            "gfx1030", "gfx90a", "gfx942"]


def test_required_archs_present_and_sourced():
    table = archs()
    for gfx in REQUIRED:
        assert gfx in table and table[gfx].sources and table[gfx].family


def test_apus_are_marked():
    table = archs()
    assert all(table[g].apu for g in ("gfx1103", "gfx1150", "gfx1151", "gfx1035", "gfx1036", "gfx90c"))
    assert not any(table[g].apu for g in ("gfx1100", "gfx1030", "gfx90a", "gfx942"))
    assert table["gfx1103"].hsa_override == "11.0.0" and 0x15BF in table["gfx1103"].pci_device_ids


def test_known_issues_sourced():
    issues = known_issues()
    assert len(issues) >= 8 and all(i.sources and i.link.startswith("https://") for i in issues.values())


def test_platform_facts():
    assert platform_fact("kfd_gtt_on_apu", "min_kernel") == "6.10"
    assert "ttm" in platform_fact("ttm", "module_names")
    with pytest.raises(KnowledgeError, match="missing"):
        platform_fact("ttm", "no_such_key")


def test_malformed_table_is_loud(tmp_path, monkeypatch):
    (tmp_path / "archs.toml").write_text('[[arch]]\ngfx = "gfx1"\nfamily = 3\n')
    monkeypatch.setattr(tables, "HERE", tmp_path)
    tables.archs.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match="archs.toml arch #1"):
            tables.archs()
    finally:
        monkeypatch.undo()
        tables.archs.cache_clear()
