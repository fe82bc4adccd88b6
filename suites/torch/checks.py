"""Device checks of the torch suite as pure functions: DeviceFacts (+ target, profile)
-> Verdict, so each can be shown to fail on facts recorded from real machines."""

from __future__ import annotations

from fixtures import fixes
from fixtures.parsers.properties import override_to_gfx
from fixtures.provision import plan_torch
from fixtures.profile import SystemProfile
from fixtures.sizes import format_bytes
from fixtures.target import Target
from fixtures.native import torch_wheel
from fixtures.unknown import Unknown, known
from fixtures.verdict import FixStep, Verdict, failed, not_applicable, passed
from fixtures.target import target_card
from suites.kernel.checks import OVERRIDE_CHECK, judge_override
from suites.torch.device import LAUNCH_ERRORS, DeviceFacts

CPU = "the device under test is the CPU (--torch-device=cpu)"


def _override_hint(target: Target) -> str:
    good = target.arch.hsa_override if target.arch else ""
    return f"export HSA_OVERRIDE_GFX_VERSION={good}" if good else "install a torch build with kernels for this GPU"


def _override_fix(target: Target) -> tuple[FixStep, ...]:
    good = target.arch.hsa_override if target.arch else ""
    source = target.arch.sources[0] if target.arch and target.arch.sources else ""
    return (fixes.user_env_step("HSA_OVERRIDE_GFX_VERSION", good, source=source),) if good else ()


def rocm_torch_fix(host_rocm: str | None) -> tuple[FixStep, ...]:
    """pip install torch from the PyTorch index nearest the host ROCm (fixtures/provision.py picks it)."""
    index = plan_torch(None, True, host_rocm, "rocm").indexes[0]
    return (FixStep("packages", (f"python3 -m pip install --upgrade --force-reinstall torch --index-url {index}",),
                    root=False, note="run it with the Python the suite uses (its .venv); the index is the nearest "
                    f"to ROCm {host_rocm or '(version unknown: check it matches yours)'}",
                    source="fixtures/provision.py ROCM_INDEXES (https://pytorch.org/get-started/locally/)"),)


def rocm_build(facts: DeviceFacts, target: Target, host_rocm: str | None = None) -> Verdict:
    name = "torch is a ROCm build"
    if not target.active:
        return not_applicable(name, f"no AMD target: {target.how}")
    if facts.hip_version:
        return passed(name, "torch.version.hip set", facts.build)
    return failed(name, "torch.version.hip set (a ROCm build)", facts.build,
                  why="only a ROCm build of torch can use an AMD GPU",
                  remedy="python3 -m fixtures.provision --torch rocm (or pip install torch --index-url "
                         "https://download.pytorch.org/whl/rocm6.4, matching your ROCm)",
                  fix=rocm_torch_fix(host_rocm))


def device_arch(facts: DeviceFacts, target: Target, override: str | None) -> Verdict:
    name = "the device reports the target's arch"
    if not facts.is_gpu:
        return not_applicable(name, CPU)
    if target.gfx is None:
        return not_applicable(name, f"no AMD target: {target.how}; device reports {facts.arch}")
    arch = facts.base_arch
    over = override_to_gfx(override) if override else None
    expected = target.gfx + (f" (or {over} under HSA_OVERRIDE_GFX_VERSION={override})" if over else "")
    if arch == target.gfx:
        return passed(name, expected, f"{facts.name}: {facts.arch}")
    if over and arch == over:
        return passed(name, expected, f"{facts.name} reports {facts.arch}: HSA_OVERRIDE_GFX_VERSION={override} makes "
                      f"the runtime treat this {target.gfx} as {over}, as intended")
    return failed(name, expected, f"{facts.name}: {facts.arch}", why="torch runs on a different GPU than the one "
                  "under test, or the override points elsewhere",
                  remedy="check HIP_VISIBLE_DEVICES / --torch-device, or run with --apu matching this GPU")


def arch_in_build(facts: DeviceFacts, target: Target, override: str | None) -> Verdict:
    name = "the torch build has kernels for the device"
    if not facts.is_gpu:
        return not_applicable(name, CPU)
    if not facts.arch_list:
        return not_applicable(name, f"{facts.build} reports no arch list")
    built = {a.split(":")[0] for a in facts.arch_list}
    arch = facts.base_arch
    listed = ", ".join(facts.arch_list)
    if arch in built:
        note = f" ({arch} via HSA_OVERRIDE_GFX_VERSION={override})" if override and target.gfx != arch else ""
        return passed(name, f"{arch} in torch.cuda.get_arch_list()", f"{facts.build} has {listed}{note}")
    return failed(name, f"{arch} in torch.cuda.get_arch_list()", f"{facts.build} has {listed}",
                  why="without kernels for the arch, every op fails with 'invalid device function'",
                  remedy=_override_hint(target) if target.arch else "install a torch build that includes " + str(arch),
                  fix=_override_fix(target))


def override_for_wheel(facts: DeviceFacts, target: Target, override: str | None,
                       bundled: tuple[str, ...] | Unknown | None) -> Verdict:
    """The HSA override judged for this PyTorch wheel, which brings its own kernels and rocBLAS."""
    if not facts.is_gpu:
        return not_applicable(f"{OVERRIDE_CHECK} (the PyTorch wheel)", CPU)
    if target.gfx is None:
        return not_applicable(f"{OVERRIDE_CHECK} (the PyTorch wheel)", f"no AMD target: {target.how}")
    return judge_override(torch_wheel(target.gfx, facts.arch_list, bundled, facts.build), override, target)


def first_launch(facts: DeviceFacts, target: Target) -> Verdict:
    name = "a first kernel runs on the device"
    if facts.launch_error is None:
        return passed(name, "ones(1024) * 2 summed on the device = 2048", f"{facts.device}: 2048")
    known_error = any(m.lower() in facts.launch_error.lower() for m in LAUNCH_ERRORS)
    if known_error:
        return failed(name, "a kernel launch succeeds", facts.launch_error,
                      why=f"the build has no code object for {facts.arch or 'this GPU'}",
                      remedy=_override_hint(target) + " and re-run", fix=_override_fix(target))
    return failed(name, "a kernel launch succeeds", facts.launch_error,
                  remedy="run the kernel suite (pytest suites/kernel) for /dev/kfd, groups and the override")


def memory_visible(facts: DeviceFacts, profile: SystemProfile, target: Target) -> Verdict:
    name = "torch sees GTT-sized memory on an APU"
    if not facts.is_gpu:
        return not_applicable(name, CPU)
    if target.apu is not True:
        return not_applicable(name, f"{target.gfx or 'the device'} is not an APU")
    card = target_card(profile, target)
    total = facts.mem_total or facts.total_memory
    if card is None or not known(card.vram_total) or not known(card.gtt_total) or not total:
        return not_applicable(name, "VRAM/GTT sizes or torch's total unknown")
    vram, gtt = int(card.vram_total), int(card.gtt_total)  # type: ignore[arg-type]
    m = {"torch_total_bytes": total, "torch_free_bytes": facts.mem_free, "vram_bytes": vram, "gtt_bytes": gtt}
    found = (f"torch total {format_bytes(total)}, free {format_bytes(facts.mem_free)}; "
             f"carve-out {format_bytes(vram)}, GTT {format_bytes(gtt)}")
    if facts.mem_free and facts.mem_free > total:
        found += " (free > total: known ROCm report, https://github.com/ROCm/ROCm/issues/6004)"
    if total <= vram * 1.1 and gtt > 2 * vram:
        return failed(name, "torch's memory beyond the VRAM carve-out", found, measurements=m,
                      why="the HIP runtime offers only the carve-out: models larger than it fail with out-of-memory",
                      remedy="a kernel >= 6.10 lets KFD use GTT on APUs (see the kernel suite)")
    return passed(name, "torch's memory beyond the VRAM carve-out", found, measurements=m)
