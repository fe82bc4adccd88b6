"""ollama checks as pure functions over what the server said and what the probe found."""

from __future__ import annotations

from dataclasses import replace

from fixtures.knowledge.matching import applies
from fixtures.knowledge.ollama_igpu import VARIABLE, admission
from fixtures.knowledge.tables import KnownIssue, known_issues
from fixtures.native import ollama_build
from fixtures.parsers.ollama import LoadedModel, OllamaLog, processor_text
from fixtures.profile import SystemProfile
from fixtures.sizes import GIB, format_bytes
from fixtures.target import Target, target_card
from fixtures.unknown import Unknown, known
from fixtures.verdict import Verdict, failed, not_applicable, passed
from fixtures.versions import parse_version
from suites.kernel import checks as kernel_checks
from suites.ollama.diagnosis import IGPU_STEP, Evidence, diagnose

MARGIN_FRACTION = 0.10  # of the free GPU memory, kept for the KV cache, compute graph and the desktop
MARGIN_MIN = 1 * GIB
OVERRIDE_SNIPPET = ("sudo systemctl edit ollama, then add under [Service]: Environment=\"HSA_OVERRIDE_GFX_VERSION={v}\" "
                    "(no comment after it on the same line), then sudo systemctl restart ollama")


def issues_for(version: str, target: Target) -> list[KnownIssue]:
    """ollama's known issues that cover this server version on this target."""
    v = parse_version(version)
    versions = {"ollama": v}
    return [i for i in known_issues().values() if i.component == "ollama" and applies(i, target, versions).applies]


def server_version(version: str, target: Target) -> Verdict:
    hits = issues_for(version, target)
    name = f"ollama {version} has no known issue on {target.gfx or 'this machine'}"
    if not hits:
        return passed(name, "no known issue for this version and GPU", f"ollama {version}")
    return failed(name, "no known issue for this version and GPU",
                  "; ".join(f"{i.id}: {i.title}" for i in hits), why=hits[0].summary,
                  remedy="see the issues; a newer ollama may have the fix", link=hits[0].link)


def gpu_memory_free(profile: SystemProfile, target: Target) -> tuple[int | None, str]:
    """VRAM + GTT not in use when the probe ran, as amdgpu reports them."""
    card = target_card(profile, target)
    if card is None or not known(card.vram_total) or not known(card.gtt_total):
        return None, "amdgpu reports no VRAM/GTT sizes"
    used = lambda v: int(v) if known(v) else 0  # noqa: E731 - an unreadable 'used' counts as nothing used
    vram = int(card.vram_total) - used(card.vram_used)  # type: ignore[arg-type]
    gtt = int(card.gtt_total) - used(card.gtt_used)  # type: ignore[arg-type]
    return vram + gtt, f"VRAM {format_bytes(vram)} + GTT {format_bytes(gtt)} free"


def server_environment(profile: SystemProfile, spawned_env: dict[str, str] | None) -> tuple[dict[str, str] | None, str]:
    """The environment the tested server runs with, when the suite can know it: the one it
    spawned, else ollama.service's unit + drop-ins (assumed to be the server tested)."""
    if spawned_env is not None:
        return spawned_env, "the server --ollama-spawn started"
    service = profile.ollama_service
    if isinstance(service, Unknown):
        return None, f"unknown: {service.why}"
    return dict(service.env), f"{service.unit} + {len(service.dropins)} drop-in(s)"


def _gpu_share_issues(version: str, target: Target) -> list[str]:
    """Known issues in range that predict a model left (partly) on the CPU: a pass while one
    covers this version is flagged by the known_issue marker."""
    return [i.id for i in issues_for(version, target) if i.id in ("ollama-5471", "ollama-12062", "ollama-13419")]


def offload(model: str, loaded: LoadedModel | None, profile: SystemProfile, target: Target, version: str,
            log: OllamaLog | None = None, env: dict[str, str] | None = None,
            env_where: str = "") -> tuple[Verdict, list[str]]:
    """Is a model that fits in VRAM + GTT entirely on the GPU?  When it is not, the verdict
    names the cause the evidence shows (suites/ollama/diagnosis.py).  Returns the verdict and
    the known issues for the known_issue marker."""
    name = f"{model} is entirely on the GPU"
    if loaded is None or loaded.size is None:
        return failed(name, f"{model} listed by /api/ps after loading", "not listed (or no size)",
                      remedy="check the server log: the load may have failed"), []
    if not target.active:
        return not_applicable(name, f"no AMD GPU ({target.how}); ollama ps: {loaded.processor}"), []
    size, vram = loaded.size, loaded.size_vram or 0
    split = processor_text(size, vram)
    if split == "Unknown":
        return not_applicable(name, f"/api/ps says size_vram {vram} > size {size} (ollama ps prints Unknown): "
                                    "the split cannot be read"), []
    free, how = gpu_memory_free(profile, target)
    margin = max(MARGIN_MIN, int(free * MARGIN_FRACTION)) if free is not None else 0
    m = {"size_bytes": size, "size_vram_bytes": vram, "gpu_free_bytes": free, "margin_bytes": margin}
    found = f"ollama ps: {split} ({format_bytes(vram)} of {format_bytes(size)} on the GPU); {how}"
    expected = (f"100% GPU: {format_bytes(size)} fits in {format_bytes(free - margin)} ({how}, minus margin)"
                if free is not None else "100% GPU")
    if vram == size:
        return passed(name, expected, found, measurements=m, rests_on=("ollama",)), _gpu_share_issues(version, target)
    card = target_card(profile, target)
    carveout = int(card.vram_total) if card and known(card.vram_total) else None  # type: ignore[arg-type]
    d = diagnose(Evidence(version, target, size, vram, free, margin, carveout, env, env_where, log))
    m["cause"] = d.cause
    if d.cause == "d":
        return not_applicable(name, f"{found}; {d.text()}; {d.remedy}", measurements=m, rests_on=("ollama",)), []
    if d.cause is None:
        return failed(name, expected, f"{found}; {d.text()}", measurements=m, rests_on=("ollama",),
                      why="layers left on the CPU run at a fraction of the GPU's speed",
                      remedy="the evidence does not decide the cause: " + "; ".join(d.missing)), []
    return failed(name, expected, f"{found}; {d.text()}", measurements=m, rests_on=("ollama",), fix=d.fix,
                  why="layers left on the CPU run at a fraction of the GPU's speed", remedy=d.remedy,
                  link=d.link), list(d.issues)


def igpu_enabled(target: Target, version: str, env: dict[str, str] | None, where: str) -> Verdict:
    """ollama >= 0.30.0 drops an iGPU outside its release's default list unless
    OLLAMA_IGPU_ENABLE is in the server's environment."""
    name = "the ollama server keeps the integrated GPU (OLLAMA_IGPU_ENABLE where the release needs it)"
    if not target.active or target.apu is not True:
        return not_applicable(name, f"not an APU ({target.how})")
    if env is None:
        return not_applicable(name, f"the server's environment is {where}; give --ollama-log (its `server config` "
                                    "line lists it) or run ollama as ollama.service")
    adm = admission(version, target.gfx, env)
    expected = (f"{VARIABLE} set, or {target.gfx} in ollama {version}'s default list" if adm.policy and
                adm.policy.requires_variable else "no iGPU filter in this release")
    found = f"{adm.why} (environment from {where})"
    link = adm.policy.sources[0] if adm.policy and adm.policy.sources else ""
    if adm.kept:
        return passed(name, expected, found, rests_on=("ollama",), link=link)
    return failed(name, expected, found, rests_on=("ollama",), link=link, fix=(IGPU_STEP,),
                  why="the server drops the iGPU at discovery: every model runs 100% on the CPU, whatever the HSA "
                      "override", remedy=f"set {VARIABLE}=1 in a drop-in of ollama.service "
                                        f"({IGPU_STEP.edits}) and restart it: " + "; ".join(IGPU_STEP.commands)
                                        + "; sudo systemctl daemon-reload; sudo systemctl restart ollama")


def speed(answer: dict, loaded: LoadedModel | None, target: Target) -> Verdict:
    name = "generation speed against the memory-bandwidth bound"
    count, duration = answer.get("eval_count"), answer.get("eval_duration")
    if not isinstance(count, int) or not isinstance(duration, int) or count <= 0 or duration <= 0:
        return failed(name, "eval_count and eval_duration in the answer", f"eval_count={count!r}, "
                      f"eval_duration={duration!r}", remedy="the server's answer is incomplete: check its version")
    tps = count / (duration / 1e9)
    bw = target.arch.memory_bandwidth_gbs if target.arch and target.arch.memory_bandwidth_gbs else None
    size = loaded.size if loaded and loaded.size else None
    bound = bw * 1e9 / size if bw and size else None  # every token reads every weight once
    m = {"tokens_per_s": round(tps, 2), "bound_tokens_per_s": round(bound, 2) if bound else None,
         "fraction_of_bound": round(tps / bound, 3) if bound else None}
    found = f"{tps:.1f} tokens/s" + (f" = {tps / bound:.0%} of the {bound:.1f} tokens/s that {bw:g} GB/s allows "
                                     f"for {format_bytes(size)}" if bound else " (no bandwidth bound known)")
    return passed(name, "a measurement", found, measurements=m)


def service_environment(profile: SystemProfile, target: Target, version: str | None = None,
                        bundled: tuple[tuple[str, ...], str] | None = None) -> Verdict:
    """The systemd service (not the shell) must carry the override ollama needs: judged against
    ollama's own ROCm libraries (its bundled rocBLAS, else its version), not the system ROCm."""
    name = "the ollama service has the HSA override this GPU needs"
    service = profile.ollama_service
    if isinstance(service, Unknown):
        return not_applicable(name, f"ollama is not set up as a systemd service here ({service.why})")
    if target.gfx is None:
        return not_applicable(name, target.how)
    kernels = ollama_build(target.gfx, version, bundled)
    verdict = kernel_checks.judge_override(kernels, service.env.get("HSA_OVERRIDE_GFX_VERSION"), target)
    where = f"{service.unit} + {len(service.dropins)} drop-in(s)"
    found = f"{verdict.found} (service environment from {where})"
    good = target.arch.hsa_override if target.arch else ""
    if verdict.status == "n/a" and version is None:
        found += "; give --ollama-url (or --ollama-spawn) so the server's version can be read"
    adds_override = verdict.status == "fail" and not service.env.get("HSA_OVERRIDE_GFX_VERSION")
    return replace(verdict, check=name, found=found,
                   remedy=OVERRIDE_SNIPPET.format(v=good or "X.Y.Z") if adds_override else verdict.remedy)


def server_log(log: OllamaLog, target: Target) -> Verdict:
    name = "the ollama log shows the GPU found and the layers offloaded"
    found = []
    override = OVERRIDE_SNIPPET.format(v=target.arch.hsa_override if target.arch and target.arch.hsa_override else "X.Y.Z")
    if log.dropped_igpus:
        d = log.dropped_igpus[0]
        return failed(name, "the integrated GPU kept by the server", f"ollama says: dropping integrated GPU "
                      f"({d.get('library', '?')} {d.get('compute', '?')} {d.get('description', '')})".strip(),
                      fix=(IGPU_STEP,), rests_on=("ollama",),
                      remedy=f"set {VARIABLE}=1 in a drop-in of ollama.service ({IGPU_STEP.edits}) and restart it")
    if log.unsupported:
        return failed(name, "the GPU accepted by ollama's ROCm", f"ollama says {', '.join(log.unsupported)} is not "
                      "supported by its ROCm libraries", remedy=override)
    if "ROCm error: invalid device function" in log.runtime_errors:
        return failed(name, "the runner runs on the GPU", "ROCm error: invalid device function (no kernel for this "
                      "GPU's arch in ollama's ROCm libraries)", remedy=override)
    if log.runtime_errors:
        return failed(name, "the runner runs on the GPU", "; ".join(log.runtime_errors),
                      remedy="see the offload check: ollama planned more GPU memory than it could allocate"
                             + (" (gfx1151: known issue ollama-16416)" if target.gfx == "gfx1151" else ""))
    if log.cpu_fallback:
        return failed(name, "no CPU fallback", log.cpu_fallback, remedy="see the offload check and known issues")
    if log.devices:
        found.append("devices: " + ", ".join(f"{d.get('library', '?')} {d.get('compute') or d.get('name', '')} "
                                              f"{d.get('total', '')}".strip() for d in log.devices))
    if log.gpus:
        found.append("ggml_cuda_init: " + ", ".join(f"{n} {a}" for n, a in log.gpus))
    if log.offloaded is not None:
        found.append(f"offloaded {log.offloaded}/{log.layers if log.layers is not None else '?'} layers to GPU")
        if log.layers is not None and log.offloaded < log.layers or log.offloaded == 0:
            return failed(name, "every layer offloaded", "; ".join(found),
                          remedy="see the offload check: a model that fits should be entirely on the GPU")
    if not found:
        return not_applicable(name, f"the log ({log.lines} lines) has no discovery or offload line")
    if log.offloaded is None:
        return not_applicable(name, "; ".join(found) + f"; the log ({log.lines} lines) has no offload line")
    return passed(name, "the GPU found, every layer offloaded", "; ".join(found))
