"""The knowledge tables load, cite sources and cover the archs the issue names."""

from __future__ import annotations

import re

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


# -- issue 10: one peak definition, the new Krackan targets, pinned ranges, the horizon ---------------

RDNA3_FAMILIES = ("RDNA3", "RDNA3.5", "RDNA4")


def test_peaks_are_one_definition_across_rows():
    """RDNA/GCN rows: peak_fp32_tflops = CUs x 128 FLOPs/clk x boost clock (no dual-issue);
    the dual-issue figure is exactly twice that on RDNA3/3.5/4 and absent elsewhere."""
    for arch in archs().values():
        if arch.peak_fp32_tflops and arch.compute_units and arch.boost_clock_mhz and not arch.family.startswith("CDNA"):
            computed = arch.compute_units * 128 * arch.boost_clock_mhz / 1e6
            assert abs(computed - arch.peak_fp32_tflops) / arch.peak_fp32_tflops < 0.01, arch.gfx
        if arch.family in RDNA3_FAMILIES and arch.peak_fp32_tflops:
            assert abs(arch.peak_fp32_dual_issue_tflops - 2 * arch.peak_fp32_tflops) < 0.01 * arch.peak_fp32_tflops, arch.gfx
            assert arch.peak_fp32_verdict_tflops == arch.peak_fp32_dual_issue_tflops
        elif arch.family not in RDNA3_FAMILIES:
            assert arch.peak_fp32_dual_issue_tflops == 0, arch.gfx
            assert arch.peak_fp32_verdict_tflops == arch.peak_fp32_tflops


def test_krackan_targets_present():
    table = archs()
    assert table["gfx1152"].apu and table["gfx1152"].family == "RDNA3.5" and 0x1114 in table["gfx1152"].pci_device_ids
    assert table["gfx1153"].apu and 0x1902 in table["gfx1153"].pci_device_ids
    assert tables.arch_by_pci_device(0x1114).gfx == "gfx1152"
    # fewer vector registers than the gfx1100 code an 11.0.0 override loads (LLVM comgr ISA table)
    assert table["gfx1103"].vgprs_per_simd == 1024 < table["gfx1100"].vgprs_per_simd == 1536


def test_ranges_are_pinned_or_say_why():
    """A known issue with a range carries the commit/first tag that set it; one without says why."""
    for issue in known_issues().values():
        if issue.has_range:
            assert issue.pins and all(p.first_tag and p.checked for p in issue.pins), issue.id
        else:
            assert issue.unpinned, f"{issue.id} has no range and does not say why"


def test_pinned_examples():
    issues = known_issues()
    eb = issues["linux-eb853413"].pins[0]
    assert eb.commit.startswith("eb853413") and eb.first_tag == "v6.10-rc1"
    assert issues["rocm-3059"].fixed_in == "7.1.0" and issues["rocm-3059"].pins[0].first_tag == "rocm-7.1.0"
    assert issues["onnxruntime-25181"].pins[0].first_tag == "v1.23.0"


def test_runtime_builds_pinned():
    rows = {(b.runtime, b.gfx): b for b in tables.runtime_builds()}
    assert rows[("rocm", "gfx1103")].versions == ">=7.1.0"
    assert rows[("rocm", "gfx1151")].pins[0].commit.startswith("24d54baf6")
    assert rows[("ollama", "gfx1103")].versions == ">=0.18.0,<0.31.2"
    assert {p.role for p in rows[("ollama", "gfx1103")].pins} == {"added", "removed"}


def test_horizon_covers_every_component():
    table = tables.horizon()
    assert set(table) == set(tables.HORIZON_COMPONENTS)
    assert all(h.source and h.checked and re.fullmatch(r"\d{4}-\d{2}-\d{2}", h.checked_on) and h.checked_on >= "2026-11-25" for h in table.values())


@pytest.mark.parametrize("installed, release, newer", [
    ("7.1.5", "7.1", False), ("7.2.0", "7.1", True), ("6.11.0", "7.1", False),
    ("2.15.0", "2.15.0", False), ("2.15.1", "2.15.0", True), ("2.16", "2.15.0", True), ("0.32.15", "0.32.15", False)])
def test_is_newer(installed, release, newer):
    from packaging.version import Version

    from fixtures.knowledge.horizon import is_newer

    assert is_newer(Version(installed), release) is newer


def test_horizon_caveats_and_entries():
    from packaging.version import Version

    from fixtures.knowledge.horizon import horizon_caveats, horizon_entries

    versions = {"torch": Version("2.16.0"), "kernel": Version("6.11"), "rocm": None}
    notes = horizon_caveats(("torch", "kernel", "rocm", "torch"), versions)
    assert len(notes) == 1 and "torch 2.16.0 is newer than 2.15.0" in notes[0]
    rows = {r["component"]: r for r in horizon_entries(versions)}
    assert rows["torch"]["newer"] is True and rows["kernel"]["newer"] is False and rows["rocm"]["installed"] is None
    assert set(rows["docker"]) == {"component", "checked_against", "released", "checked_on", "source", "installed", "newer"}


@pytest.mark.parametrize("name, text, match", [
    ("known_issues.toml", '[[issue]]\nid = "x"\ntitle = "t"\nlink = "l"\ncomponent = "rocm"\nsources = ["s"]\n'
                          'pins = [{ role = "fixed", commit = "zz", first_tag = "v1", checked = "c" }]\n', "not a hex hash"),
    ("known_issues.toml", '[[issue]]\nid = "x"\ntitle = "t"\nlink = "l"\ncomponent = "rocm"\nsources = ["s"]\n'
                          'pins = [{ role = "broke", commit = "", first_tag = "v1", checked = "c" }]\n', "role 'broke'"),
    ("horizon.toml", '[[component]]\ncomponent = "torch"\nrelease = "2.15.0"\nreleased = "2026-10-28"\n'
                     'checked_on = "2026-11-25"\nsource = "s"\nchecked = "c"\n', "no horizon for kernel"),
    ("horizon.toml", '[[component]]\ncomponent = "torch"\nrelease = "two"\nreleased = "2026-10-28"\n'
                     'checked_on = "2026-11-25"\nsource = "s"\nchecked = "c"\n', "not a version"),
    ("runtimes.toml", '[[build]]\nruntime = "rocm"\ngfx = "gfx1103"\nversions = ">=7.1"\nsummary = "s"\nsources = ["s"]\n',
     "pin its range"),
])
def test_malformed_new_tables_are_loud(tmp_path, monkeypatch, name, text, match):
    (tmp_path / name).write_text(text)
    monkeypatch.setattr(tables, "HERE", tmp_path)
    loader = {"known_issues.toml": tables.known_issues, "horizon.toml": tables.horizon,
              "runtimes.toml": tables.runtime_builds}[name]
    loader.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match=match):
            loader()
    finally:
        monkeypatch.undo()
        loader.cache_clear()
