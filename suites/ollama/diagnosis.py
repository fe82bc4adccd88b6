"""Why is an ollama model (partly) on the CPU?  A decision over evidence, not a guess.

Five causes, each with the evidence that proves it, its version range and its remedy:

  a  the iGPU is dropped by the server's default (>= 0.30.0, the APU's gfx not in that
     release's default list, OLLAMA_IGPU_ENABLE not set; the `dropping integrated GPU`
     log line proves it) -> OLLAMA_IGPU_ENABLE=1 in the unit's drop-in, restart;
  b  the GPU sized by the VRAM carve-out only (ollama-5471 family before 0.14.0; on
     0.14.0-0.24.0 only with the log showing a carve-out-sized GPU, ollama-15385)
     -> upgrade to the fixed release;
  c  the GPU's arch is not in ollama's bundled ROCm (`gfxNNNN is not supported`,
     `invalid device function`, or a release whose build lacks the target and no
     override) -> the override, or a release whose build has the target;
  d  the model is larger than free VRAM + GTT -> a correct partial offload, not a failure;
  e  gfx1151 free-memory over-report (#16416/#16480, 0.30.0+) -> reserve the difference.

Evidence outranks inference: a GPU share above zero rules out "dropped"; a log line
outranks the version tables.  When nothing decides, the diagnosis names the evidence
that would (e.g. "give --ollama-log").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fixtures.knowledge.matching import applies
from fixtures.knowledge.ollama_igpu import VARIABLE, admission
from fixtures.knowledge.tables import build_for, known_issues
from fixtures.parsers.ollama import OllamaLog, processor_text
from fixtures.sizes import format_bytes, parse_size
from fixtures.target import Target
from fixtures.fixes import service_env_step
from fixtures.verdict import FixStep
from fixtures.versions import parse_version, satisfies

IGPU_SOURCE = "https://github.com/ollama/ollama/blob/v0.32.15/discover/runner.go"
GTT_FIX_RELEASE = "0.14.0"  # PR #13196, merge commit 7ad036992 (known_issues.toml ollama-5471)
GTT_FIX_SOURCE = "https://github.com/ollama/ollama/pull/13196"
CARVEOUT_FACTOR = 1.5  # a GPU share up to 1.5x the carve-out is "about the carve-out"
LOG_HINT = "give --ollama-log FILE (journalctl -u ollama --no-pager > ollama.log) or run with --ollama-spawn"


def dropin_step(name: str, value: str, source: str) -> FixStep:
    """NAME=value in its own drop-in of ollama.service, restarted at the end of the fix plan."""
    return service_env_step("ollama", name, value, source)


IGPU_STEP = dropin_step(VARIABLE, "1", IGPU_SOURCE)


@dataclass(frozen=True)
class Evidence:
    """What the run saw.  None means "not known" (never "no")."""

    version: str
    target: Target
    size: int
    size_vram: int
    free: int | None = None  # VRAM + GTT not in use (amdgpu sysfs)
    margin: int = 0
    vram_total: int | None = None  # the BIOS carve-out
    env: dict[str, str] | None = None  # the server's environment, when known
    env_where: str = ""
    log: OllamaLog | None = None


@dataclass(frozen=True)
class Diagnosis:
    """The cause the evidence shows (None: undecided), what ruled the others out, and what
    evidence is missing when nothing decides."""

    cause: str | None
    title: str
    evidence: tuple[str, ...] = ()
    remedy: str = ""
    fix: tuple[FixStep, ...] = ()
    issues: tuple[str, ...] = ()
    link: str = ""
    failure: bool = True  # d is a correct partial offload
    ruled_out: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # further causes the evidence proves (fixing the first reveals them)

    def text(self) -> str:
        head = f"cause {self.cause}: {self.title}" if self.cause else "cause not decided"
        parts = [head]
        if self.evidence:
            parts.append("evidence: " + "; ".join(self.evidence))
        if self.also:
            parts.append("also: " + "; ".join(self.also))
        if self.missing:
            parts.append("missing evidence: " + "; ".join(self.missing))
        if self.ruled_out:
            parts.append("ruled out: " + "; ".join(self.ruled_out))
        return " | ".join(parts)


def _in_range(issue_id: str, ev: Evidence) -> bool:
    issue = known_issues().get(issue_id)
    v = parse_version(ev.version)
    return bool(issue and v and applies(issue, ev.target, {"ollama": v}).applies)


def _server_env(ev: Evidence) -> tuple[dict[str, str] | None, str]:
    """The server's own `server config` line beats the unit files."""
    if ev.log is not None and ev.log.server_env:
        return ev.log.server_env, "the server's `server config` log line"
    return ev.env, ev.env_where


def _size(text: str) -> int | None:
    try:
        return parse_size(text.replace(" ", "")) or None
    except ValueError:
        return None


def _log_gpu(log: OllamaLog | None, key: str) -> int | None:
    """`total`/`available` of the first ROCm device in the log's "inference compute" records."""
    for d in (log.devices if log else ()):
        if d.get("library", "").lower() == "rocm" and d.get(key):
            return _size(d[key])
    return None


def _upgrade_steps(ev: Evidence) -> tuple[FixStep, ...]:
    upgrade = FixStep("packages", commands=("curl -fsSL https://ollama.com/install.sh | sh",), restart=("ollama",),
                      note=f"upgrade ollama to {GTT_FIX_RELEASE} or later (GTT counted for iGPUs, PR #13196)",
                      source=GTT_FIX_SOURCE)
    return (upgrade, IGPU_STEP)  # today's releases (>= 0.30.0) also need the variable for a 780M/890M


def cause_a(ev: Evidence) -> Diagnosis | str | None:
    """Diagnosis, a reason it is ruled out (str), or None (cannot tell)."""
    log = ev.log
    if log and log.dropped_igpus:
        d = log.dropped_igpus[0]
        quote = next((q for q in log.quotes if "dropping integrated GPU" in q), "dropping integrated GPU")
        return Diagnosis("a", "ollama dropped the integrated GPU (OLLAMA_IGPU_ENABLE not set)",
                         (f"log: {quote} ({d.get('compute', '?')} {d.get('description', '')})".strip(),),
                         f"set {VARIABLE}=1 in a drop-in of ollama.service ({IGPU_STEP.edits}) and restart it",
                         (IGPU_STEP,), link=IGPU_SOURCE)
    if ev.size_vram > 0:
        return f"a: {format_bytes(ev.size_vram)} is on the GPU, so the server did not drop it"
    env, where = _server_env(ev)
    if env is None:
        policy = admission(ev.version, ev.target.gfx, {})
        if policy.policy is None or not policy.policy.requires_variable:
            return f"a: {policy.why}"
        return None
    adm = admission(ev.version, ev.target.gfx, env)
    if adm.kept:
        return f"a: {adm.why}"
    return Diagnosis("a", "ollama drops the integrated GPU by default (OLLAMA_IGPU_ENABLE not set)",
                     (f"ollama {ev.version}; {adm.why} (environment from {where})",
                      f"ollama ps: {processor_text(ev.size, ev.size_vram)}"),
                     f"set {VARIABLE}=1 in a drop-in of ollama.service ({IGPU_STEP.edits}) and restart it",
                     (IGPU_STEP,), link=IGPU_SOURCE)


def cause_c(ev: Evidence) -> Diagnosis | str | None:
    log, arch = ev.log, ev.target.arch
    override = arch.hsa_override if arch and arch.hsa_override else "X.Y.Z"
    step = dropin_step("HSA_OVERRIDE_GFX_VERSION", override, "https://github.com/ollama/ollama/blob/main/docs/gpu.md")
    build = build_for("ollama", ev.target.gfx) if ev.target.gfx else None
    where = f"; or an ollama release whose ROCm build has {ev.target.gfx} ({build.versions})" if build else ""
    remedy = f"set HSA_OVERRIDE_GFX_VERSION={override} in a drop-in of ollama.service and restart it{where}"
    if log and (log.unsupported or "ROCm error: invalid device function" in log.runtime_errors):
        quote = next((q for q in log.quotes if "not supported" in q or "invalid device function" in q), "")
        return Diagnosis("c", "the GPU's arch is not supported by ollama's bundled ROCm",
                         (f"log: {quote}",), remedy, (step,), link="https://github.com/ollama/ollama/issues/4099")
    if log and log.offloaded:
        return f"c: the log shows {log.offloaded} layers offloaded, so ollama's ROCm ran on this GPU"
    env, where_env = _server_env(ev)
    v = parse_version(ev.version)
    if build is None or v is None or ev.target.gfx is None:
        return None
    if satisfies(v, build.versions):
        return f"c: ollama {ev.version}'s ROCm build has {ev.target.gfx} kernels ({build.summary})"
    if env is None:
        return None
    if env.get("HSA_OVERRIDE_GFX_VERSION"):
        return f"c: HSA_OVERRIDE_GFX_VERSION={env['HSA_OVERRIDE_GFX_VERSION']} is set ({where_env})"
    return Diagnosis("c", "the GPU's arch is not in ollama's bundled ROCm build and no override is set",
                     (f"ollama {ev.version} is outside {build.versions} ({build.summary})",
                      f"no HSA_OVERRIDE_GFX_VERSION in the environment ({where_env})"), remedy, (step,),
                     link=build.sources[0] if build.sources else "")


def cause_d(ev: Evidence) -> Diagnosis | str | None:
    if ev.free is None:
        return None
    usable = ev.free - ev.margin
    if ev.size <= usable:
        return f"d: {format_bytes(ev.size)} fits in {format_bytes(usable)} free VRAM + GTT (after the margin)"
    if ev.size_vram == 0:
        return (f"d: {format_bytes(ev.size)} is more than {format_bytes(usable)} free, but a partial offload would "
                "still put layers on the GPU and none are there")
    missing = ev.size - usable
    return Diagnosis("d", "the model is larger than free VRAM + GTT: a correct partial offload",
                     (f"{format_bytes(ev.size)} model, {format_bytes(ev.free)} free VRAM + GTT, "
                      f"{format_bytes(ev.margin)} kept for the KV cache and graph",),
                     f"{format_bytes(missing)} more GPU memory (GTT) would be needed for 100% GPU: raise ttm.pages_limit, "
                     "or use a smaller model or quantisation", failure=False)


def cause_e(ev: Evidence) -> Diagnosis | str | None:
    if ev.target.gfx != "gfx1151":
        return f"e: the over-report affects gfx1151, the target is {ev.target.gfx}"
    if not _in_range("ollama-16416", ev):
        return f"e: ollama {ev.version} is outside the over-report's range (>= 0.30.0)"
    log = ev.log
    if log is None:
        return None
    available = _log_gpu(log, "available")
    oom = "ROCm error: out of memory" in log.runtime_errors
    if not oom and not (available and ev.free and available > ev.free):
        return "e: the log shows neither an out-of-memory crash nor more free memory than amdgpu reports"
    facts = []
    steps: tuple[FixStep, ...] = ()
    if oom:
        facts.append("log: ROCm error: out of memory")
    if available and ev.free and available > ev.free:
        delta = available - ev.free
        facts.append(f"ollama saw {format_bytes(available)} available, amdgpu reports {format_bytes(ev.free)} free")
        steps = (dropin_step("OLLAMA_GPU_OVERHEAD", str(delta), "https://github.com/ollama/ollama/pull/16983"),)
    return Diagnosis("e", "gfx1151 reports more free memory than the real GTT budget (ollama #16416/#16480)",
                     tuple(facts), "no ollama release has the fix (PR #16983, unmerged as of v0.33.0-rc2): reserve the "
                     "difference with OLLAMA_GPU_OVERHEAD (bytes per GPU) in a drop-in, or use a smaller context",
                     steps, ("ollama-16416",), "https://github.com/ollama/ollama/issues/16416")


def cause_b(ev: Evidence) -> Diagnosis | str | None:
    if ev.target.apu is False:
        return "b: not an APU"
    ids = tuple(i for i in ("ollama-5471", "ollama-12062", "ollama-13419") if _in_range(i, ev))
    regression = _in_range("ollama-15385", ev) and not ids
    if not ids and not regression:
        return f"b: ollama {ev.version} counts GTT for iGPUs (fixed in {GTT_FIX_RELEASE}, PR #13196)"
    if ev.size_vram == 0 and not ev.log:
        return "b: nothing is on the GPU, while a carve-out-sized GPU would hold part of the model"
    carve = ev.vram_total
    log_total = _log_gpu(ev.log, "total")
    facts = []
    if carve and log_total and log_total <= carve * CARVEOUT_FACTOR:
        facts.append(f"log: ollama sized the GPU at {format_bytes(log_total)}, the VRAM carve-out is {format_bytes(carve)}")
    if carve and 0 < ev.size_vram <= carve * CARVEOUT_FACTOR and not regression:
        facts.append(f"{format_bytes(ev.size_vram)} on the GPU is about the VRAM carve-out ({format_bytes(carve)})")
    if not facts:
        if regression:
            return None if ev.log is None else "b: the log does not show the GPU sized by the carve-out"
        return None if carve is None else (f"b: {format_bytes(ev.size_vram)} on the GPU is not about the "
                                           f"{format_bytes(carve)} carve-out")
    issues = ids or ("ollama-15385",)
    table = known_issues()
    return Diagnosis("b", "ollama sized the APU by its VRAM carve-out, not VRAM + GTT",
                     (f"ollama {ev.version} is in {', '.join(f'{i} ({table[i].affected})' for i in issues)}", *facts),
                     f"upgrade ollama to {GTT_FIX_RELEASE} or later (PR #13196 counts GTT for iGPUs)"
                     + ("; on 0.30.0+ the in-tree hard-coded integrated=false is gone" if regression else "")
                     + f"; today's releases (0.30.0+) also need {VARIABLE}=1 in the service's drop-in for a "
                       f"{ev.target.gfx or 'this'} iGPU; stop-gap: raise the BIOS carve-out",
                     _upgrade_steps(ev), issues, table[issues[0]].link)


CAUSES = (("d", cause_d), ("a", cause_a), ("c", cause_c), ("e", cause_e), ("b", cause_b))


def diagnose(ev: Evidence) -> Diagnosis:
    """The first cause the evidence proves, in the order d, a, c, e, b (a model larger than
    the GPU memory explains a split whatever else is true; ollama drops an iGPU before it
    loads any kernel; b needs the most inference); further proved causes go to `also`, with
    their fix steps; the others' reasons for being ruled out; what is missing when none is."""
    ruled, unknown = [], []
    proved: list[Diagnosis] = []
    for key, fn in CAUSES:
        result = fn(ev)
        if isinstance(result, Diagnosis):
            proved.append(result)
        elif isinstance(result, str):
            ruled.append(result)
        elif result is None:
            unknown.append(key)
    if proved:
        first, rest = proved[0], [d for d in proved[1:] if d.failure]
        fix = first.fix + tuple(step for d in rest for step in d.fix if step not in first.fix)
        remedy = "; then ".join([first.remedy] + [d.remedy for d in rest]) if first.failure else first.remedy
        return replace(first, ruled_out=tuple(ruled), fix=fix if first.failure else first.fix, remedy=remedy,
                       issues=first.issues + tuple(i for d in rest for i in d.issues),
                       also=tuple(f"cause {d.cause}: {d.title}" for d in rest))
    missing = []
    env, _ = _server_env(ev)
    if ev.log is None:
        missing.append(LOG_HINT)
    if env is None and {"a", "c"} & set(unknown):
        missing.append("the server's environment: run ollama as the systemd service ollama.service (its unit and "
                       "drop-ins are read) or give its log, whose `server config` line lists it")
    if ev.free is None:
        missing.append("amdgpu's VRAM/GTT sizes (mem_info_vram_total, mem_info_gtt_total)")
    return Diagnosis(None, "the evidence does not decide between causes " + ", ".join(unknown or ["a-e"]),
                     ruled_out=tuple(ruled), missing=tuple(missing))
