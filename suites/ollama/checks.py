"""ollama checks as pure functions over what the server said and what the probe found."""

from __future__ import annotations

from dataclasses import replace

from fixtures.knowledge.matching import applies
from fixtures.knowledge.tables import KnownIssue, known_issues
from fixtures.parsers.ollama import LoadedModel, OllamaLog, processor_text
from fixtures.profile import SystemProfile
from fixtures.sizes import GIB, format_bytes
from fixtures.target import Target, target_card
from fixtures.unknown import Unknown, known
from fixtures.verdict import Verdict, failed, not_applicable, passed
from fixtures.versions import parse_version
from suites.kernel import checks as kernel_checks

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


def offload(model: str, loaded: LoadedModel | None, profile: SystemProfile, target: Target,
            version: str) -> tuple[Verdict, list[str]]:
    """Is a model that fits in VRAM + GTT entirely on the GPU?  Returns the verdict and the
    known issues that explain a failure (for the known_issue marker)."""
    name = f"{model} is entirely on the GPU"
    if loaded is None or loaded.size is None:
        return failed(name, f"{model} listed by /api/ps after loading", "not listed (or no size)",
                      remedy="check the server log: the load may have failed"), []
    if not target.active:
        return not_applicable(name, f"no AMD GPU ({target.how}); ollama ps: {loaded.processor}"), []
    free, how = gpu_memory_free(profile, target)
    if free is None:
        return not_applicable(name, how), []
    margin = max(MARGIN_MIN, int(free * MARGIN_FRACTION))
    size, vram = loaded.size, loaded.size_vram or 0
    split = processor_text(size, vram)
    m = {"size_bytes": size, "size_vram_bytes": vram, "gpu_free_bytes": free, "margin_bytes": margin}
    found = f"ollama ps: {split} ({format_bytes(vram)} of {format_bytes(size)} on the GPU); {how}"
    if size > free - margin:
        return not_applicable(name, f"{format_bytes(size)} does not fit in {format_bytes(free)} - "
                                    f"{format_bytes(margin)} margin: {found}"), []
    expected = f"100% GPU: {format_bytes(size)} fits in {format_bytes(free - margin)} ({how}, minus margin)"
    if vram >= size:
        return passed(name, expected, found, measurements=m), []
    hits = [i for i in issues_for(version, target) if "vram" in i.title.lower() or "gtt" in i.title.lower()
            or "memory" in i.title.lower()]
    card = target_card(profile, target)
    carveout = card.vram_total if card and known(card.vram_total) else None
    note = (f"; {format_bytes(vram)} on the GPU is about the VRAM carve-out ({format_bytes(carveout)}): "
            "ollama sized the GPU by VRAM only" if carveout and vram <= int(carveout) * 1.5 else "")  # type: ignore[arg-type]
    return failed(name, expected, found + note, measurements=m,
                  why="layers left on the CPU run at a fraction of the GPU's speed",
                  remedy=(f"known issue {hits[0].id}: {hits[0].summary}" if hits else
                          "check the server log's offload line and the service's environment"),
                  link=hits[0].link if hits else ""), [i.id for i in hits]


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


def service_environment(profile: SystemProfile, target: Target) -> Verdict:
    """The systemd service (not the shell) must carry the override the GPU needs."""
    name = "the ollama service has the HSA override this GPU needs"
    service = profile.ollama_service
    if isinstance(service, Unknown):
        return not_applicable(name, f"ollama is not set up as a systemd service here ({service.why})")
    verdict = kernel_checks.hsa_override(replace(profile, env=dict(service.env)), target)
    where = f"{service.unit} + {len(service.dropins)} drop-in(s)"
    found = f"{verdict.found} (service environment from {where})"
    good = target.arch.hsa_override if target.arch else ""
    return replace(verdict, check=name, found=found,
                   remedy=OVERRIDE_SNIPPET.format(v=good or "X.Y.Z") if verdict.status == "fail" else verdict.remedy)


def server_log(log: OllamaLog, target: Target) -> Verdict:
    name = "the ollama log shows the GPU found and the layers offloaded"
    found = []
    if log.unsupported:
        return failed(name, "the GPU accepted by ollama's ROCm", f"ollama says {', '.join(log.unsupported)} is not "
                      "supported by its ROCm libraries", remedy=OVERRIDE_SNIPPET.format(
                          v=target.arch.hsa_override if target.arch and target.arch.hsa_override else "X.Y.Z"))
    if log.cpu_fallback:
        return failed(name, "no CPU fallback", log.cpu_fallback, remedy="see the offload check and known issues")
    if log.devices:
        found.append("devices: " + ", ".join(f"{d.get('library', '?')} {d.get('compute') or d.get('name', '')} "
                                              f"{d.get('total', '')}".strip() for d in log.devices))
    if log.offloaded is not None and log.layers:
        found.append(f"offloaded {log.offloaded}/{log.layers} layers to GPU")
        if log.offloaded < log.layers:
            return failed(name, "every layer offloaded", "; ".join(found),
                          remedy="see the offload check: a model that fits should be entirely on the GPU")
    if not found:
        return not_applicable(name, f"the log ({log.lines} lines) has no discovery or offload line")
    return passed(name, "the GPU found, every layer offloaded", "; ".join(found))
