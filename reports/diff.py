"""Two reports of one machine (last night, tonight): what broke, what got fixed, which
measurements dropped, and what changed on the machine in between, so a reader can tell
"the machine changed" from "the suite changed".  A regression is a check that passed
(or xfailed) before and fails now, or a measurement that fell by more than the threshold.
"""

from __future__ import annotations

from typing import Any

GOOD = ("passed", "xfailed")
BAD = ("failed", "error", "crashed", "timeout")
DROP_THRESHOLD = 0.10  # a higher-is-better measurement falling by more than 10 % is a regression
HIGHER_IS_BETTER = ("tflops", "gbps", "tokens_per_s", "fraction_of_peak")


def _machine_facts(doc: dict[str, Any]) -> dict[str, Any]:
    s = doc.get("machine", {}).get("summary", {})
    facts = {k: s.get(k) for k in ("kernel", "rocm", "distro", "gtt_bytes", "vram_bytes", "ttm_pages_limit",
                                   "hsa_override")}
    facts.update({f"{k} version": v for k, v in doc.get("versions", {}).items()})
    facts.update({f"env {k}": v for k, v in s.get("env", {}).items()})
    return facts


def diff_documents(old: dict[str, Any], new: dict[str, Any], threshold: float = DROP_THRESHOLD) -> dict[str, Any]:
    """The differences between two (loaded) reports, as a JSON-able dict."""
    before = {r["nodeid"]: r for r in old.get("results", [])}
    after = {r["nodeid"]: r for r in new.get("results", [])}
    regressions, fixes, drops = [], [], []
    for nodeid, rec in after.items():
        was = before.get(nodeid)
        if was is None:
            continue
        if was["outcome"] in GOOD and rec["outcome"] in BAD:
            regressions.append({"nodeid": nodeid, "was": was["outcome"], "now": rec["outcome"],
                                "message": (rec.get("message") or "").splitlines()[0][:300] if rec.get("message") else ""})
        elif was["outcome"] in BAD and rec["outcome"] in GOOD:
            fixes.append({"nodeid": nodeid, "was": was["outcome"], "now": rec["outcome"]})
        for key in HIGHER_IS_BETTER:
            a, b = was.get("measurements", {}).get(key), rec.get("measurements", {}).get(key)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0 and (a - b) / a > threshold:
                drops.append({"nodeid": nodeid, "measurement": key, "was": a, "now": b,
                              "change": round((b - a) / a, 4)})
    fa, fb = _machine_facts(old), _machine_facts(new)
    changed = {k: {"was": fa.get(k), "now": fb.get(k)} for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)}
    return {"old_created": old.get("created"), "new_created": new.get("created"), "threshold": threshold,
            "regressions": regressions + [dict(d, kind="measurement") for d in drops],
            "fixes": fixes, "machine_changes": changed,
            "new_checks": sorted(set(after) - set(before)), "gone_checks": sorted(set(before) - set(after))}


def diff_lines(diff: dict[str, Any]) -> list[str]:
    """The diff for a terminal: regressions first."""
    lines = [f"baseline {diff.get('old_created')} -> this run {diff.get('new_created')}"]
    for r in diff["regressions"]:
        if r.get("kind") == "measurement":
            lines.append(f"REGRESSION {r['nodeid']}: {r['measurement']} {r['was']:g} -> {r['now']:g} "
                         f"({r['change']:+.1%}, threshold -{diff['threshold']:.0%})")
        else:
            lines.append(f"REGRESSION {r['nodeid']}: {r['was']} -> {r['now']}" + (f": {r['message']}" if r["message"] else ""))
    lines += [f"FIXED {f['nodeid']}: {f['was']} -> {f['now']}" for f in diff["fixes"]]
    if diff["machine_changes"]:
        lines.append("the machine changed: " + "; ".join(
            f"{k}: {v['was']} -> {v['now']}" for k, v in diff["machine_changes"].items()))
    else:
        lines.append("the machine did not change (kernel, ROCm, packages, GTT, environment are the same)")
    if diff["new_checks"] or diff["gone_checks"]:
        lines.append(f"the suite changed: {len(diff['new_checks'])} new checks, {len(diff['gone_checks'])} gone")
    if not diff["regressions"] and not diff["fixes"]:
        lines.append("no regressions, no fixes")
    return lines
