"""suites/kernel end to end on every recorded machine: each fails exactly the checks it
should, each failure with its remedy, and the run still writes its report."""

from __future__ import annotations


import pytest

from tests.helpers import MACHINES, REPO, load_report

EXPECTED_FAILURES = {
    "780m-good": set(),
    "780m-ollama-0.32-igpu-dropped": set(),  # the ollama service is what fails there (tests/test_ollama_suite.py)
    "780m-ollama-0.32-igpu-enabled": set(),
    "780m-ollama-0.6": set(),
    "780m-kernel-6.8": {"test_kernel_supports_gtt_on_apu"},
    "780m-ttm-not-in-effect": {"test_modprobe_config_in_effect"},
    "780m-ttm-missing-options": {"test_modprobe_lines_not_ignored"},
    "780m-no-render-group": {"test_kfd_device_usable", "test_render_node_usable", "test_rocminfo_sees_gpu"},
    "780m-rocm-7.1-native": set(),
    "780m-rocm-7.1-override": {"test_hsa_override"},
    "rx7900xtx": set(),
    "strix-halo-cmdline": set(),
    "no-amd-gpu": set(),
}


def run_suite(pytester: pytest.Pytester, machine: str, *extra: str) -> tuple[pytest.RunResult, dict]:
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(REPO / "suites" / "kernel"), f"--sysroot={MACHINES / machine}",
                                          f"--report-dir={reports}", "-p", "no:cacheprovider", *extra)
    return result, load_report(reports)


def test_every_machine_has_an_expectation():
    assert set(EXPECTED_FAILURES) == {p.name for p in MACHINES.iterdir() if (p / "machine.json").exists()}


@pytest.mark.parametrize("machine", sorted(EXPECTED_FAILURES))
def test_machine_fails_exactly_what_it_should(pytester, machine):
    result, doc = run_suite(pytester, machine)
    failed = {r["nodeid"].split("::")[-1] for r in doc["results"] if r["outcome"] == "failed"}
    assert failed == EXPECTED_FAILURES[machine]
    assert result.ret == (1 if failed else 0)
    for rec in doc["results"]:
        if rec["outcome"] == "failed":
            assert rec["verdict"]["remedy"] and "remedy:" in rec["message"]
    assert doc["summary"]["kernel"].get("failed", 0) == len(failed)


def test_no_amd_gpu_skips_everything_with_its_reason(pytester):
    result, doc = run_suite(pytester, "no-amd-gpu")
    assert result.ret == 0 and {r["outcome"] for r in doc["results"]} == {"skipped"}
    assert all("no AMD GPU" in r["message"] for r in doc["results"])


def test_min_gtt_and_rocm_options_reach_the_checks(pytester):
    _, doc = run_suite(pytester, "780m-good", "--min-gtt", "64G", "--rocm", ">=7")
    failed = {r["nodeid"].split("::")[-1] for r in doc["results"] if r["outcome"] == "failed"}
    assert failed == {"test_gtt_at_least_min_gtt", "test_rocm_version"}
    gtt = next(r for r in doc["results"] if r["nodeid"].endswith("test_gtt_at_least_min_gtt"))
    assert gtt["measurements"] == {"gtt_total_bytes": 48 * 1024**3, "min_gtt_bytes": 64 * 1024**3}


def test_quick_level_leaves_out_rocminfo(pytester):
    _, doc = run_suite(pytester, "780m-no-render-group", "--level", "quick")
    rocminfo = next(r for r in doc["results"] if r["nodeid"].endswith("test_rocminfo_sees_gpu"))
    assert rocminfo["outcome"] == "skipped" and "level standard" in rocminfo["message"]


def test_summary_ends_with_report_and_area_lines(pytester):
    result, doc = run_suite(pytester, "780m-ttm-missing-options")
    lines = [l for l in result.outlines if l.strip()]
    tail = "\n".join(lines[-5:])
    assert "Kernel       broken: 1 failed, 12 passed, 2 skipped" in tail
    assert f"{doc['html']}" in tail and ".json" in tail and tail.splitlines()[-2].startswith("data:")
    assert "APU conformance: gfx1103" in "\n".join(lines[-9:])
    assert "fix:    " in tail and doc["fix_script"] in tail


def test_parallel_run_reports_every_verdict(pytester):
    """Under xdist the controller still gets every record, verdict and measurement."""
    result, doc = run_suite(pytester, "780m-no-render-group", "-n", "2")
    assert len(doc["results"]) == 15 and result.ret == 1
    failed = [r for r in doc["results"] if r["outcome"] == "failed"]
    assert len(failed) == 3 and all(r["verdict"]["remedy"] for r in failed)


def test_a_kernel_beyond_the_horizon_is_a_caveat_not_a_failure(pytester, derive):
    """Kernel facts were checked against 7.1 (horizon.toml): a 7.3 kernel gets the same verdicts,
    each resting on kernel facts with a caveat saying so, and the report lists the horizon."""
    machine = derive("strix-halo-cmdline", {"proc/sys/kernel/osrelease": "7.3.2-arch1-1\n"})
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(REPO / "suites" / "kernel"), f"--sysroot={machine}",
                                          f"--report-dir={reports}", "-p", "no:cacheprovider")
    doc = load_report(reports)
    assert result.ret == 0 and all(r["outcome"] != "failed" for r in doc["results"])
    judged = [r["verdict"] for r in doc["results"] if r.get("verdict") and r["verdict"]["status"] != "n/a"]
    assert judged and all(any("kernel 7.3.2 is newer than 7.1" in c for c in v["caveats"]) for v in judged)
    kernel = next(h for h in doc["horizon"] if h["component"] == "kernel")
    assert kernel["newer"] is True and kernel["installed"] == "7.3.2" and kernel["checked_against"] == "7.1"
    assert "kernel 7.3.2 is newer" in result.stdout.str()  # the message a person reads says so


def test_a_kernel_within_the_horizon_has_no_caveat(pytester):
    _, doc = run_suite(pytester, "strix-halo-cmdline")
    assert not any(r.get("verdict", {}).get("caveats") for r in doc["results"])
    assert next(h for h in doc["horizon"] if h["component"] == "kernel")["newer"] is False
