"""The fix plan: failing checks' remedies as ordered commands, in the report and as a
script beside it.  The plan for the seed's ttm.conf writes a line modprobe applies (the
commands are run against a copy of the recording and the copy re-probed); the plan for
a user outside the render group adds them to the group that owns /dev/kfd on that
machine; bash accepts every plan generated from every recording and its variants."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.fixes import group_step, service_env_step, ttm_fix, user_env_step
from fixtures.machine import RecordedMachine
from fixtures.probe import probe
from fixtures.target import resolve_target
from fixtures.verdict import FAIL, FIX_GROUPS, FixStep, failed
from reports.fixplan import REBOOT, RESTART, build_plan, render_script, script_for
from suites.kernel import checks
from tests import test_kernel_checks as variants
from tests.helpers import MACHINES, REPO, load_report, machine_names

BASH = shutil.which("bash")
KERNEL_CHECKS = [n for n in dir(checks) if not n.startswith("_") and inspect.isfunction(getattr(checks, n))
                 and getattr(checks, n).__module__ == checks.__name__
                 and list(inspect.signature(getattr(checks, n)).parameters)[:1] == ["profile"]
                 and inspect.signature(getattr(checks, n)).return_annotation in ("Verdict", checks.Verdict)]
DERIVED = {"nomodeset": ("780m-good", variants.NOMODESET, {}), "not-loaded": ("780m-good", variants.NOT_LOADED, {}),
           "gttsize": ("strix-halo-cmdline", variants.GTTSIZE, {}), "dkms": ("780m-good", variants.DKMS, {}),
           "huge-gtt": ("780m-good", variants.HUGE_GTT, {}), "carve-out": ("780m-good", variants.BIG_CARVEOUT, {}),
           "bad-line": ("780m-good", variants.BAD_LINE, {}), "not-conf": ("780m-good", variants.NOT_CONF, {}),
           "typo": ("780m-good", variants.GTT_SIZE_TYPO, {}), "override-10": ("780m-good", {}, variants.OVERRIDE_10),
           "no-override": ("780m-good", variants.NO_ROCBLAS, variants.NO_OVERRIDE),
           "joined": ("780m-no-render-group", {}, variants.JOINED_NOT_EFFECTIVE),
           "kfd-video": ("780m-no-render-group", {}, {"device_nodes": [
               {"path": "/dev/kfd", "mode": "crw-rw----", "group": "video", "read_write": False, "gid": 44},
               {"path": "/dev/dri/renderD128", "mode": "crw-rw----", "group": "video", "read_write": False, "gid": 44}]}),
           "fedora": ("780m-ttm-missing-options", {"/etc/os-release": 'PRETTY_NAME="Fedora Linux 41"\n'}, {}),
           "no-os-release": ("780m-ttm-not-in-effect", {"/etc/os-release": None}, {})}


def kernel_records(root: Path, min_gtt: int | None = None, rocm: str | None = None) -> list[dict]:
    """Every kernel check on one recording, as the report's records."""
    profile = probe(RecordedMachine(root))
    target = resolve_target("auto", profile)
    extra = {"gtt_at_least": (min_gtt,), "rocm_version": (rocm,)}
    records = []
    for name in KERNEL_CHECKS:
        fn = getattr(checks, name)
        params = list(inspect.signature(fn).parameters)
        args = [profile] + ([target] if "target" in params else [])
        verdict = fn(*args, *extra.get(name, ()))
        records.append({"nodeid": f"suites/kernel/test_kernel.py::{name}", "outcome":
                        "failed" if verdict.status == FAIL else "passed", "verdict": verdict.as_dict()})
    return records


def bash_accepts(script: str, tmp_path: Path) -> None:
    path = tmp_path / "plan-fix.sh"
    path.write_text(script)
    result = subprocess.run([BASH, "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + script


def plan_for(root: Path, **options: object) -> list[dict]:
    return build_plan(kernel_records(root, **options))  # type: ignore[arg-type]


@pytest.mark.skipif(BASH is None, reason="no bash on this machine")
@pytest.mark.parametrize("machine", machine_names() + sorted(DERIVED))
def test_bash_accepts_every_generated_plan(machine, derive, tmp_path):
    root = derive(DERIVED[machine][0], *DERIVED[machine][1:]) if machine in DERIVED else MACHINES / machine
    plan = plan_for(root, min_gtt=64 * 2**30, rocm=">=7")  # both fail on most: more steps to check
    script = render_script(plan, f"apu-{machine}.json", machine)
    bash_accepts(script, tmp_path)
    assert script.startswith("#!/usr/bin/env bash\n") and "\nset -e\n" in script
    groups = [step["group"] for step in plan]
    order = [*FIX_GROUPS, RESTART, REBOOT]
    assert groups == sorted(groups, key=order.index), groups
    for step in plan:
        assert step["checks"], step
        for check in step["checks"]:
            assert f"# fixes:  {check}" in script
    if any(step["reboot"] for step in plan):
        assert groups[-1] == REBOOT and "sudo systemctl reboot" in script


def apply_modprobe_steps(plan: list[dict], root: Path) -> None:
    """Run the plan's modprobe steps against the copy of a recording at `root` (sudo a no-op)."""
    lines = ["set -e", "set -o pipefail", "sudo() { \"$@\"; }"]
    for step in plan:
        if step["group"] == "modprobe":
            lines += [c.replace("/etc/", f"{root}/etc/") for c in step["commands"]]
    subprocess.run([BASH, "-c", "\n".join(lines)], check=True)


@pytest.mark.skipif(BASH is None, reason="no bash on this machine")
@pytest.mark.parametrize("machine, change", [("780m-ttm-missing-options", {}), ("780m-good", variants.NOT_CONF),
                                             ("780m-good", variants.BAD_LINE)])
def test_plan_writes_an_options_line_modprobe_applies(machine, change, derive):
    root = derive(machine, change)
    before = checks.modprobe_lines_ignored(probe(RecordedMachine(root)))
    assert before.status == FAIL
    plan = plan_for(root)
    (step,) = [s for s in plan if s["group"] == "modprobe"]
    assert step["edits"] == ["/etc/modprobe.d/ttm.conf"]
    assert any("options ttm pages_limit=12582912 page_pool_size=12582912" in c for c in step["commands"])
    assert [s["group"] for s in plan][-2:] == ["initramfs", REBOOT]
    apply_modprobe_steps(plan, root)
    assert (root / "etc/modprobe.d.apu-bak").is_dir() == (machine == "780m-ttm-missing-options" or change is variants.BAD_LINE)
    profile = probe(RecordedMachine(root))
    after = checks.modprobe_lines_ignored(profile)
    assert after.ok, after.message()
    configured = checks._configured_ttm(profile)["ttm"]
    assert configured["pages_limit"][0] == configured["page_pool_size"][0] == "12582912"


def test_plan_line_is_capped_by_ram_when_the_file_asked_too_much(derive):
    """A ttm.conf asking for more than RAM minus the host's headroom gets the most that leaves it."""
    root = derive("780m-ttm-missing-options", {"/etc/modprobe.d/ttm.conf": "ttm pages_limit=99999999\n"})
    (step,) = [s for s in plan_for(root) if s["group"] == "modprobe"]
    # MemTotal 65306112 kB = 62.3 GiB; less 4 GiB headroom, whole GiB: 58 GiB = 15204352 pages
    assert any("options ttm pages_limit=15204352 page_pool_size=15204352" in c for c in step["commands"])


@pytest.mark.parametrize("group", ["render", "video"])
def test_plan_adds_the_user_to_the_group_that_owns_dev_kfd(group, derive):
    nodes = [{"path": p, "mode": "crw-rw----", "group": group, "read_write": False, "gid": 992}
             for p in ("/dev/kfd", "/dev/dri/renderD128")]
    root = derive("780m-no-render-group", {}, {"device_nodes": nodes})
    plan = plan_for(root)
    (step,) = [s for s in plan if s["group"] == "groups"]
    assert step["commands"] == [f'sudo usermod -aG {group} "${{SUDO_USER:-$USER}}"']
    assert set(step["checks"]) == {"/dev/kfd is usable", "the GPU's render node is usable"}  # one step for both


def test_plan_orders_groups_and_gathers_restarts_and_the_reboot_last():
    profile = probe(RecordedMachine(MACHINES / "780m-good"))
    fixes = {"a service sees the override": (service_env_step("ollama", "HSA_OVERRIDE_GFX_VERSION", "11.0.0"),),
             "the user sees the override": (user_env_step("HSA_OVERRIDE_GFX_VERSION", "11.0.0"),),
             "the user may open /dev/kfd": (group_step("render"),),
             "GTT is big enough": ttm_fix(profile, "ttm", 12582912),
             "the kernel is new enough": (FixStep("packages", ("sudo apt-get install -y linux-generic-hwe-24.04",),
                                                  reboot=True),),
             "a prose-only remedy": ()}
    records = [{"nodeid": f"t::{n}", "outcome": "failed",
                "verdict": failed(name, "x", "y", remedy="do it by hand", fix=fix).as_dict()}
               for n, (name, fix) in enumerate(fixes.items())]
    records.append({"nodeid": "t::ok", "outcome": "passed", "verdict": None})
    plan = build_plan(records)
    assert [s["group"] for s in plan] == ["packages", "modprobe", "initramfs", "groups", "service-env", "user-env",
                                          "manual", RESTART, REBOOT]
    restart, reboot = plan[-2:]
    assert restart["commands"] == ["sudo systemctl daemon-reload", "sudo systemctl restart ollama"]
    assert restart["checks"] == ["a service sees the override"]
    assert set(reboot["checks"]) == {"GTT is big enough", "the kernel is new enough"}
    assert plan[-3]["note"] == "do it by hand" and plan[-3]["commands"] == []


def test_no_failure_no_steps(tmp_path):
    plan = plan_for(MACHINES / "780m-good")
    assert plan == []
    script = render_script(plan, "apu-gfx1103-x.json")
    assert "nothing to fix" in script
    if BASH:
        bash_accepts(script, tmp_path)


def test_every_run_writes_the_plan_beside_the_report_and_reports_fix_regenerates_it(pytester):
    from tests.test_report import validate

    reports = pytester.path / "reports"
    kernel = str(REPO / "suites" / "kernel")
    result = pytester.runpytest_inprocess(kernel, f"--sysroot={MACHINES / '780m-no-render-group'}",
                                          f"--report-dir={reports}")
    doc = load_report(reports)
    validate(doc)
    script = reports / doc["fix_script"]
    assert script.name == Path(next(reports.glob("apu-*.json")).name).stem + "-fix.sh"
    text = script.read_text()
    assert 'sudo usermod -aG render "${SUDO_USER:-$USER}"' in text
    assert not script.stat().st_mode & 0o111, "the suite writes the plan; it never makes it executable or runs it"
    assert [s["group"] for s in doc["fix_plan"]][0] == "groups"
    assert f"fix:    {script}" in result.stdout.str()
    assert text == script_for(doc, f"{script.name[:-len('-fix.sh')]}.json")
    script.unlink()
    json_path = next(reports.glob("apu-*.json"))
    out = subprocess.run([sys.executable, "-m", "reports", "fix", str(json_path)], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert script.read_text() == text


def test_reports_fix_on_a_bad_file_is_a_message(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{")
    out = subprocess.run([sys.executable, "-m", "reports", "fix", str(bad)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "not JSON" in out.stderr and "Traceback" not in out.stderr


def test_a_killed_run_still_has_a_plan(tmp_path):
    """Killed after a failing check: the script from the start is there, and `reports fix` lays the record over it."""
    (tmp_path / "conftest.py").write_text("from plugins import PLUGINS\npytest_plugins = list(PLUGINS)\n")
    (tmp_path / "test_x.py").write_text(
        "import os\nfrom fixtures.fixes import group_step\nfrom fixtures.verdict import failed\n\n"
        "def test_a(check):\n    check(failed('the user may open /dev/kfd', 'x', 'y', fix=(group_step('render'),)))\n\n"
        "def test_b():\n    os._exit(9)\n")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--sysroot={MACHINES / '780m-good'}",
                    f"--report-dir={tmp_path / 'r'}"], cwd=tmp_path, capture_output=True,
                   env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    (script,) = (tmp_path / "r").glob("*-fix.sh")
    (report,) = (tmp_path / "r").glob("*.json")
    subprocess.run([sys.executable, "-m", "reports", "fix", str(report)], cwd=REPO, check=True, capture_output=True)
    assert "sudo usermod -aG render" in script.read_text()
    assert json.loads(report.read_text())["fix_script"] == script.name


def test_suites_beyond_the_kernel_give_commands():
    """torch's CPU build, a missing override, ONNX Runtime without an AMD provider, the docker socket."""
    from suites.docker import checks as docker_checks
    from suites.docker.cli import Result
    from suites.torch import checks as torch_checks
    from tests.test_torch_checks import CPU_BUILD, XTX

    profile = probe(RecordedMachine(MACHINES / "780m-good"))
    target = resolve_target("auto", profile)
    torch = torch_checks.rocm_build(CPU_BUILD, target, "6.2.4").as_dict()
    assert torch["fix"][0]["commands"] == ["python3 -m pip install --upgrade --force-reinstall torch "
                                           "--index-url https://download.pytorch.org/whl/rocm6.2.4"]
    from dataclasses import replace

    arch = torch_checks.arch_in_build(replace(XTX, arch="gfx1103"), target, None).as_dict()
    assert arch["fix"][0]["commands"][-1] == "echo 'export HSA_OVERRIDE_GFX_VERSION=11.0.0' >> ~/.profile"
    denied = docker_checks.daemon(None, Result(("docker", "version"), 1, "", "permission denied while trying to "
                                               "connect to the Docker daemon socket at unix:///var/run/docker.sock: "
                                               "Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.47/version\": dial unix\n"))
    plan = build_plan([{"nodeid": "d", "outcome": "failed", "verdict": denied.as_dict()},
                       {"nodeid": "t", "outcome": "failed", "verdict": torch},
                       {"nodeid": "a", "outcome": "failed", "verdict": arch}])
    assert [s["group"] for s in plan] == ["packages", "groups", "user-env"]
    assert plan[1]["commands"] == ['sudo usermod -aG docker "${SUDO_USER:-$USER}"']
