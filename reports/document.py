"""The report document: building blocks the pytest plugin writes with, and the loader,
redaction and per-area verdicts that every reader (page, matrix, diff) shares.

Schema: reports/schema.json (`apu-conformance/2`).  Version 1 documents (the first
release) are upgraded on load; anything else is rejected with a message saying what
was read.
"""

from __future__ import annotations

import json
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

from fixtures.unknown import Unknown

SCHEMA = "apu-conformance/2"
SUPPORTED = ("apu-conformance/1", SCHEMA)
SCHEMA_FILE = Path(__file__).with_name("schema.json")
OUTCOMES = ("passed", "failed", "error", "crashed", "timeout", "skipped", "xfailed", "xpassed")
BAD = ("failed", "error", "crashed", "timeout")
VERDICTS = ("works", "works with caveats", "broken", "not tested on a GPU", "not applicable")


class ReportError(ValueError):
    """A file that is not a report this code can read."""


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Unknown, versions and tuples as plain JSON values."""
    if isinstance(value, Unknown):
        return {"unknown": value.why}
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# -- verdicts per area -------------------------------------------------------------------

UNTESTED = "not tested on a GPU"
# Area keys are the suites' directory names (stable data); people read these names.
AREA_NAMES = {"hf": "HF", "onnxruntime": "ONNX Runtime", "torch": "PyTorch", "kernel": "Kernel",
              "ollama": "ollama", "docker": "Docker", "selftest": "self-tests", "other": "other"}


def area_name(area: str) -> str:
    """The area as users write it: HF, ONNX Runtime, PyTorch, Kernel, ollama, Docker."""
    return AREA_NAMES.get(area, area)


def area_verdict(records: list[dict[str, Any]]) -> dict[str, Any]:
    """works / works with caveats / broken / not tested on a GPU / not applicable, with a one-line reason.

    "works" needs a check that exercises the GPU side to have run: checks marked cpu_side
    (offline access, CPU-provider parity, anything run with --torch-device=cpu) passing
    on their own give "not tested on a GPU"."""
    counts: dict[str, int] = {}
    for rec in records:
        counts[rec["outcome"]] = counts.get(rec["outcome"], 0) + 1
    bad = [r for r in records if r["outcome"] in BAD]
    caveats = [r for r in records if r["outcome"] in ("xfailed", "xpassed") or r.get("known_issue_not_reproduced")]
    ran = [r for r in records if r["outcome"] not in ("skipped", "running")]
    on_gpu = [r for r in ran if not r.get("cpu_side")]
    if bad:
        names = ", ".join(check_name(r) for r in bad[:3]) + (" …" if len(bad) > 3 else "")
        verdict, reason = "broken", f"{len(bad)} of {len(ran)} checks failed: {names}"
    elif caveats:
        ids = sorted({(r.get("known_issue") or {}).get("id", "") for r in caveats} - {""})
        verdict = "works with caveats"
        reason = f"{len(ran) - len(caveats)} passed; known issues: {', '.join(ids) or 'see the checks'}"
    elif on_gpu:
        verdict, reason = "works", f"all {len(ran)} checks passed" + (
            f" ({counts.get('skipped', 0)} not applicable)" if counts.get("skipped") else "")
    elif ran:
        groups = skip_groups(records)
        verdict = UNTESTED
        reason = f"only the CPU side was checked ({len(ran)} passed)" + (
            f"; {counts['skipped']} GPU checks skipped: {clip(groups[0]['reason'], 140)}" if groups else "")
    else:
        groups = skip_groups(records)
        verdict, reason = "not applicable", clip(groups[0]["reason"], 200) if groups else "nothing ran"
    return {"verdict": verdict, "reason": reason, "counts": counts}


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:(") + " …"


def area_verdicts(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    areas: dict[str, list[dict[str, Any]]] = {}
    for rec in results:
        areas.setdefault(rec["area"], []).append(rec)
    return {area: area_verdict(recs) for area, recs in sorted(areas.items())}


def check_name(rec: dict[str, Any]) -> str:
    """The check's sentence: from its verdict, else from its docstring (plugins/sentences.py)."""
    verdict = rec.get("verdict")
    if isinstance(verdict, dict) and verdict.get("check"):
        return str(verdict["check"])
    return str(rec.get("check") or rec["nodeid"].split("::")[-1])


def skip_reason(rec: dict[str, Any]) -> str:
    """Why a test was skipped, in one line without its check's name, so that equal reasons group."""
    text = (rec.get("message") or "").strip()
    check = check_name(rec)
    for prefix in (f"{check}: not applicable: ", f"{check}: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return text.splitlines()[0].strip() if text else "no reason given"


def skip_groups(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Skipped tests grouped by reason, the largest group first: reason, count, areas, checks."""
    groups: dict[str, dict[str, Any]] = {}
    for rec in results:
        if rec.get("outcome") != "skipped":
            continue
        group = groups.setdefault(skip_reason(rec), {"reason": skip_reason(rec), "count": 0, "areas": [],
                                                     "checks": []})
        group["count"] += 1
        if rec.get("area") not in group["areas"]:
            group["areas"].append(rec.get("area"))
        group["checks"].append(check_name(rec))
    return sorted(groups.values(), key=lambda g: -g["count"])


def found_line(rec: dict[str, Any]) -> str:
    """A failure in one line: the check's sentence and what was found (or the error's message)."""
    verdict = rec.get("verdict")
    if isinstance(verdict, dict) and verdict.get("found"):
        found = str(verdict["found"]).strip().splitlines()
        return f"{check_name(rec)}: found {found[0] if found else 'nothing'}"
    return f"{check_name(rec)}: {error_line(rec.get('message') or '') or rec.get('outcome', '')}"


def error_line(message: str) -> str:
    """The line of a failure's message that says what went wrong: pytest's first `E` line, else its last."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return errors[0] if errors else (lines[-1] if lines else "")


# -- how the run ended ------------------------------------------------------------------

STATUS_NOTES = {
    "running": "the run has not finished",
    "killed": "the run was killed (SIGKILL, the out-of-memory killer, or the machine went down): every test "
              "that finished is here; the ones marked crashed were running when it died",
    "interrupted": "the run was interrupted",
    "internal-error": "pytest failed internally: do not trust passes",
    "incomplete": "the run did not finish",
}


def status_note(doc: dict[str, Any]) -> str:
    """One line on how the run ended, for pages and matrices: '' when it completed."""
    status = doc.get("status", "incomplete")
    note = STATUS_NOTES.get(status, "")
    if status == "interrupted" and doc.get("signal"):
        note += f" by {doc['signal']}"
    if status in ("running", "killed") and doc.get("status_note"):
        note += f" ({doc['status_note']})"
    return note


# -- loading -----------------------------------------------------------------------------

def load(path: str | Path) -> dict[str, Any]:
    """Read a report; upgrade version 1; ReportError naming the file and the problem.

    A report its run did not finish gets the tests from its record file laid over it
    (reports/records.py), and is marked `killed` when the process that wrote it is gone."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{p}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{p}: not JSON ({exc.msg} at line {exc.lineno}): is this a report?") from None
    if isinstance(data, dict) and data.get("status") == "running" and isinstance(data.get("records"), str) \
            and isinstance(data.get("results"), list):
        from reports.records import read_records

        with_records(data, read_records(p.parent / Path(data["records"]).name))
    return upgrade(data, str(p))


def with_records(doc: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Lay records over the document's results: a record replaces the result of its test or
    is added after them (`upgrade` then recomputes what is derived from the results)."""
    results = {r.get("nodeid"): r for r in doc["results"] if isinstance(r, dict)}
    for rec in records:
        results[rec["nodeid"]] = rec
    doc["results"] = list(results.values())
    return doc


def summary_of(areas: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The document's `summary`: outcome counts per area (the same as each area's `counts`)."""
    return {area: dict(info["counts"]) for area, info in areas.items()}


def upgrade(data: Any, where: str = "report") -> dict[str, Any]:
    if not isinstance(data, dict) or "schema" not in data:
        raise ReportError(f"{where}: not an APU conformance report (no 'schema' key)")
    if data["schema"] not in SUPPORTED:
        raise ReportError(f"{where}: schema {data['schema']!r} is not one of {', '.join(SUPPORTED)}; "
                          "a newer suite wrote it: update this checkout")
    results = data.get("results")
    if not isinstance(results, list) or not all(isinstance(r, dict) and "nodeid" in r and "outcome" in r
                                                 for r in results):
        raise ReportError(f"{where}: 'results' is not a list of test records")
    alive = None
    if data.get("status") == "running":
        from reports.process import still_running

        alive, why = still_running(data)
        data["status_note"] = why
        if alive is False:
            data["status"] = "killed"
    if data.get("status") != "complete" and not alive:  # the run stopped inside these tests
        for rec in results:
            if rec.get("outcome") == "running":
                rec["outcome"] = "crashed"
    if data.get("status") != "complete" and data["schema"] == SCHEMA:  # results changed since it was written
        data["areas"] = area_verdicts(results)
        data["summary"] = summary_of(data["areas"])
    if data["schema"] == "apu-conformance/1":
        data = dict(data)
        data["schema"] = SCHEMA
        data["status"] = "complete" if data.get("finished") else "incomplete"
        for rec in data["results"]:
            rec.setdefault("area", "other")
        data.setdefault("machine", {})
        data["machine"] = {"summary": {}, "profile": data["machine"]} if "profile" not in data["machine"] \
            else data["machine"]
        data["areas"] = area_verdicts(data["results"])
        data.setdefault("versions", {})
        data["redacted"] = False
    if data.get("status") != "complete" or not isinstance(data.get("fix_plan"), list):  # derived from the results
        from reports.fixplan import build_plan

        data["fix_plan"] = build_plan(data["results"])
    return data


# -- the machine at a glance ----------------------------------------------------------------

def machine_summary(profile: Any, target: Any) -> dict[str, Any]:
    """The facts a reader wants first, from the SystemProfile (no re-probing)."""
    from fixtures.knowledge.tables import arch_by_pci_device, archs
    from fixtures.target import target_card
    from fixtures.unknown import known

    names = {a.name: a.marketing_name for a in profile.rocminfo if a.is_gpu} if known(profile.rocminfo) else {}
    gpus = []
    for node in profile.gpu_nodes:
        arch = archs().get(node.gfx or "")
        name = names.get(node.gfx or "") or (arch.names[0] if arch and arch.names else f"KFD node {node.id}")
        gpus.append({"name": name, "gfx": node.gfx, "pci": None})
    if not gpus:
        for gpu in profile.pci_gpus:
            arch = arch_by_pci_device(gpu.device) if gpu.is_amd else None
            vendor = {0x1002: "AMD", 0x10DE: "NVIDIA", 0x8086: "Intel"}.get(gpu.vendor, f"{gpu.vendor:04x}")
            gpus.append({"name": f"{vendor} {gpu.device:04x}" + (f" ({arch.names[0]})" if arch and arch.names else ""),
                         "gfx": arch.gfx if arch else None, "pci": gpu.slot})
    card = target_card(profile, target)

    def value(v: Any) -> Any:
        return v if known(v) else None

    release = profile.kernel.release
    return {
        "cpu": value(profile.cpu_model),
        "distro": value(profile.distro),
        "kernel": release.text if known(release) else None,
        "rocm": profile.rocm.version_text if known(profile.rocm.version) else None,
        "ram_bytes": value(profile.mem_total),
        "vram_bytes": value(card.vram_total) if card else None,
        "gtt_bytes": value(card.gtt_total) if card else None,
        "gpus": gpus,
        "env": dict(profile.env),
        "ttm_pages_limit": profile.ttm.int_param("pages_limit"),
        "hsa_override": profile.env.get("HSA_OVERRIDE_GFX_VERSION"),
    }
