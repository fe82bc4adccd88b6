"""One self-contained HTML page per run, rendered from the JSON report.

reports/templates/page.html.j2 holds the markup (CSS and JS inlined from files beside it,
reports/render.py); this module turns the document into what the template shows, in the
order a person reads it: the verdict per area, what failed (sentence, found, remedy),
the fix plan, what was skipped (once per reason, with its count), the machine, charts,
and every check that ran.  The page makes no request and opens from a file, so it can be
attached to an issue or a forum post as it is.  Re-render any report (a crashed run's
too) with `python -m reports html REPORT.json`.
"""

from __future__ import annotations

from typing import Any

from fixtures.sizes import format_bytes
from reports.document import BAD, area_name, check_name, error_line, skip_groups, status_note
from reports.render import render

VERDICT_CLASS = {"works": "works", "works with caveats": "caveats", "broken": "broken",
                 "not tested on a GPU": "untested", "not applicable": "na"}


HORIZON_KEYS = ("component", "checked_against", "released", "checked_on", "source", "installed", "newer")


def _size(value: Any) -> str:
    return format_bytes(value) if isinstance(value, int) else "unknown"


def cards(doc: dict[str, Any]) -> list[dict[str, str]]:
    return [{"area": area, "name": area_name(area), "cls": VERDICT_CLASS.get(info.get("verdict"), "na"),
             "verdict": info.get("verdict") or "", "reason": info.get("reason") or ""}
            for area, info in doc.get("areas", {}).items()]


def failures(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every failed, errored, crashed or timed-out check with what a person needs to act."""
    shown = []
    for rec in doc.get("results", []):
        if rec.get("outcome") not in BAD:
            continue
        v = rec.get("verdict") or {}
        commands = [c for step in v.get("fix") or [] for c in step.get("commands", [])]
        shown.append({"nodeid": rec["nodeid"], "area_name": area_name(rec.get("area", "other")),
                      "outcome": rec["outcome"], "check": check_name(rec), "expected": v.get("expected", ""),
                      "found": v.get("found") or error_line(rec.get("message") or ""),
                      "why": v.get("why", ""), "remedy": v.get("remedy", ""), "link": v.get("link", ""),
                      "commands": commands, "caveats": v.get("caveats") or [],
                      "detail": "" if v else (rec.get("message") or "")})
    return shown


def machine_rows(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    s = doc.get("machine", {}).get("summary", {})
    v = doc.get("versions", {})
    gpus = "; ".join(f"{g.get('name')} ({g.get('gfx') or 'gfx unknown'})" for g in s.get("gpus", [])) or "none found"
    rows = [("Target", doc.get("target", {}).get("how")), ("CPU", s.get("cpu")), ("GPUs", gpus),
            ("RAM", _size(s.get("ram_bytes"))), ("VRAM carve-out", _size(s.get("vram_bytes"))),
            ("GTT limit", _size(s.get("gtt_bytes"))), ("Kernel", s.get("kernel")), ("Distribution", s.get("distro")),
            ("ROCm", s.get("rocm") or "not found"), ("HSA_OVERRIDE_GFX_VERSION", s.get("hsa_override") or "unset")]
    rows += [(name, version or "not installed") for name, version in sorted(v.items())]
    rows += [(k, val) for k, val in sorted(s.get("env", {}).items()) if k != "HSA_OVERRIDE_GFX_VERSION"]
    return rows


def bars(items: list[tuple[str, float, str]], scale: float, color: str) -> dict[str, Any]:
    """Horizontal bars for the chart macro: (label, value, text) scaled to `scale`."""
    rows = [{"label": label, "y": 6 + 26 * i, "text": text,
             "width": 0 if scale <= 0 else max(1.0, 520 * min(value / scale, 1.0))}
            for i, (label, value, text) in enumerate(items)]
    return {"height": 26 * len(items) + 8, "rows": rows, "color": color}


def memory_chart(doc: dict[str, Any]) -> dict[str, Any] | None:
    s = doc.get("machine", {}).get("summary", {})
    used = [r["measurements"]["bytes"] for r in doc.get("results", [])
            if r.get("outcome") == "passed" and isinstance(r.get("measurements", {}).get("bytes"), int)]
    items = [("RAM", s.get("ram_bytes")), ("VRAM carve-out", s.get("vram_bytes")), ("GTT limit", s.get("gtt_bytes")),
             ("largest test allocation", max(used, default=None))]
    known = [(label, float(value), format_bytes(value)) for label, value in items if isinstance(value, int)]
    return bars(known, max(v for _, v, _ in known), "#3f6fb5") if known else None


def throughput_chart(doc: dict[str, Any]) -> dict[str, Any] | None:
    items = []
    for rec in doc.get("results", []):
        m = rec.get("measurements", {})
        for key, unit in (("tflops", "TFLOP/s"), ("gbps", "GB/s")):
            if isinstance(m.get(key), (int, float)):
                peak = m.get(f"peak_{key}")
                label = rec["nodeid"].split("::")[-1].replace("test_", "")
                text = f"{m[key]:g} {unit}" + (f" = {m[key] / peak:.1%} of {peak:g} peak" if peak else " (peak unknown)")
                items.append((label, float(m[key]), float(peak) if peak else None, text))
    if not items:
        return None
    if all(p for _, _, p, _ in items):
        return bars([(label, value / peak, text) for label, value, peak, text in items], 1.0, "#7b4fb5")  # type: ignore[operator]
    return bars([(label, value, text) for label, value, _, text in items], max(v for _, v, _, _ in items), "#7b4fb5")


def checks_that_ran(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in doc.get("results", []):
        if r.get("outcome") == "skipped":
            continue
        verdict = r.get("verdict") or {}
        found = verdict.get("found") if verdict else r.get("message", "")
        rows.append({"area": r["area"], "area_name": area_name(r["area"]), "outcome": r["outcome"],
                     "check": check_name(r), "nodeid": r["nodeid"], "found": found,
                     "remedy": verdict.get("remedy", "") if r["outcome"] in BAD else "",
                     "caveats": verdict.get("caveats") or [], "cpu_side": r.get("cpu_side") or ""})
    return rows


def fix_plan(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan as the fixplan writer left it (top-level `fix_plan`), tolerant of its optional fields."""
    steps = []
    for step in doc.get("fix_plan") or []:
        if not isinstance(step, dict):
            continue
        restart, edits = step.get("restart") or "", step.get("edits") or ""
        steps.append({"group": step.get("group", ""), "checks": list(step.get("checks") or []),
                      "commands": list(step.get("commands") or []), "root": bool(step.get("root")),
                      "reboot": bool(step.get("reboot")),
                      "restart": ", ".join(restart) if isinstance(restart, list) else str(restart),
                      "edits": ", ".join(edits) if isinstance(edits, list) else str(edits),
                      "note": step.get("note") or "", "source": step.get("source") or ""})
    return steps


def page_context(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything page.html.j2 shows, from one (already redacted) report document."""
    results = doc.get("results", [])
    groups = skip_groups(results)
    ran = checks_that_ran(doc)
    return {
        "status": doc.get("status", "incomplete"), "note": status_note(doc),
        "title_gfx": doc.get("target", {}).get("gfx") or "no AMD GPU",
        "target_how": doc.get("target", {}).get("how") or "", "created": doc.get("created") or "",
        "cards": cards(doc), "failures": failures(doc),
        "fix_plan": fix_plan(doc), "fix_script": doc.get("fix_script") or "",
        "skip_groups": [{**g, "areas": ", ".join(area_name(a) for a in g["areas"])} for g in groups],
        "skipped_total": sum(g["count"] for g in groups),
        "machine": machine_rows(doc), "memory": memory_chart(doc), "throughput": throughput_chart(doc),
        "known_hit": [{"id": (r.get("known_issue") or {}).get("id"), "link": (r.get("known_issue") or {}).get("link"),
                       "check": check_name(r)} for r in results if (r.get("known_issue") or {}).get("applies")],
        "known_stale": [{"issue": issue, "check": check_name(r)} for r in results
                        for issue in r.get("known_issue_not_reproduced") or []],
        "horizon": [{k: h.get(k) for k in HORIZON_KEYS} for h in doc.get("horizon") or [] if isinstance(h, dict)],
        "checks": ran,
        "filter_areas": sorted({(r["area"], r["area_name"]) for r in ran}),
        "filter_outcomes": sorted({r["outcome"] for r in ran}),
        "log": doc.get("log_html") or "", "command": " ".join(doc.get("command", [])),
        "schema": doc.get("schema") or "", "redacted": bool(doc.get("redacted")),
    }


def render_page(doc: dict[str, Any]) -> str:
    """The whole page for one report document (already redacted as its JSON is)."""
    return render("page.html.j2", **page_context(doc))
