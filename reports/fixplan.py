"""The fix plan of a run: the failing checks' fix steps in a safe order, and the script.

Why: a user who fails five checks should not have to work out the order (kernel command
line, modprobe.d, initramfs, groups, service environment, restarts, reboot) and the
commands by hand.  Each failing check's `FixStep`s (fixtures/verdict.py, built mostly in
fixtures/fixes.py) come from its verdict in the report; identical steps from several
checks become one (the /dev/kfd and render-node checks share one `usermod`), steps run
in FIX_GROUPS order, and the restarts and the reboot are gathered into the last steps.
A failing check whose remedy is prose only becomes a `manual` step, so the plan lists
every failure that has a remedy.

The plan is data in the report (`fix_plan`) and a bash script beside it (`…-fix.sh`,
named in `fix_script`), which the suite writes and never runs.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from fixtures.verdict import FIX_GROUPS
from reports.document import BAD

SCRIPT_SUFFIX = "-fix.sh"
RESTART, REBOOT = "restart", "reboot"  # the two closing steps' groups, after FIX_GROUPS
PLAN_GROUPS = (*FIX_GROUPS, RESTART, REBOOT)
REBOOT_COMMAND = "sudo systemctl reboot"


def script_name(report_name: str) -> str:
    """apu-gfx1103-20261207-180000.json -> apu-gfx1103-20261207-180000-fix.sh"""
    return Path(report_name).stem + SCRIPT_SUFFIX


def _steps_of(rec: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    verdict = rec.get("verdict") if isinstance(rec.get("verdict"), dict) else {}
    check = str(verdict.get("check") or rec.get("nodeid", "?"))
    fixes = [f for f in verdict.get("fix") or [] if isinstance(f, dict) and f.get("group") in FIX_GROUPS]
    if not fixes and verdict.get("remedy"):
        fixes = [{"group": "manual", "commands": [], "root": False, "note": str(verdict["remedy"]),
                  "source": str(verdict.get("link") or "")}]
    return check, fixes


def build_plan(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's steps in execution order (reports/schema.json `fix_plan`)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in results:
        if rec.get("outcome") not in BAD:
            continue
        check, fixes = _steps_of(rec)
        for fix in fixes:
            commands = [str(c) for c in fix.get("commands") or []]
            key = (fix["group"], tuple(commands)) if commands else (fix["group"], (), fix.get("note", ""))
            step = merged.get(key)
            if step is None:
                step = merged[key] = {"group": fix["group"], "checks": [], "commands": commands,
                                      "root": bool(fix.get("root", True)), "reboot": False, "restart": "",
                                      "edits": [], "note": str(fix.get("note") or ""), "source": ""}
            if check not in step["checks"]:
                step["checks"].append(check)
            step["reboot"] = step["reboot"] or bool(fix.get("reboot"))
            services = step["restart"].split() + [s for s in fix.get("restart") or [] if s not in step["restart"].split()]
            step["restart"] = " ".join(services)
            if fix.get("edits") and fix["edits"] not in step["edits"]:
                step["edits"].append(str(fix["edits"]))
            sources = [s for s in step["source"].split("; ") if s]
            if fix.get("source") and fix["source"] not in sources:
                step["source"] = "; ".join([*sources, str(fix["source"])])
    steps = _one_writer_per_file(list(merged.values()))
    steps = sorted(steps, key=lambda s: FIX_GROUPS.index(s["group"]))  # stable: first seen first
    return steps + _closing_steps(steps)


def _one_writer_per_file(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two modprobe steps writing one file (GTT at least --min-gtt, GTT leaves the host its share)
    would overwrite each other: the later check's step stays, and carries both checks."""
    last: dict[str, dict[str, Any]] = {}
    for step in steps:
        if step["group"] == "modprobe" and step["edits"]:
            last[step["edits"][0]] = step
    kept = []
    for step in steps:
        winner = last.get(step["edits"][0]) if step["group"] == "modprobe" and step["edits"] else None
        if winner is not None and winner is not step:
            winner["checks"][:0] = [c for c in step["checks"] if c not in winner["checks"]]
            winner["note"] += f"; it replaces the value wanted by: {', '.join(step['checks'])}"
            continue
        kept.append(step)
    return kept


def _closing_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Restarts, then the reboot, once each, after every edit."""
    closing = []
    services = list(dict.fromkeys(s for step in steps for s in step["restart"].split()))
    if services:
        closing.append({"group": RESTART, "checks": _checks_of(s for s in steps if s["restart"]),
                        "commands": ["sudo systemctl daemon-reload",
                                     f"sudo systemctl restart {' '.join(map(shlex.quote, services))}"],
                        "root": True, "reboot": False, "restart": " ".join(services), "edits": [],
                        "note": "services pick up their new environment only when restarted", "source": ""})
    if any(step["reboot"] for step in steps):
        closing.append({"group": REBOOT, "checks": _checks_of(s for s in steps if s["reboot"]),
                        "commands": [REBOOT_COMMAND], "root": True, "reboot": True, "restart": "", "edits": [],
                        "note": "kernel command line, modprobe.d and initramfs changes apply at the next boot; "
                                "the script asks before rebooting", "source": ""})
    return closing


def _checks_of(steps: Any) -> list[str]:
    return list(dict.fromkeys(c for s in steps for c in s["checks"]))


# -- the script ---------------------------------------------------------------------------

def _comment(text: str) -> str:
    return " ".join(str(text).split())


def render_script(plan: list[dict[str, Any]], report: str = "", machine: str = "") -> str:
    """A bash script running the plan as written: `set -e`, one commented block per step."""
    out = ["#!/usr/bin/env bash",
           "# Fix plan written by the APU conformance suite" + (f" for {_comment(report)}" if report else "") + ".",
           *([f"# Machine: {_comment(machine)}"] if machine else []),
           "# The suite never runs this file. Read every step, then run it as yourself (not with sudo):",
           "#   bash " + (shlex.quote(script_name(report)) if report else "THIS_FILE"),
           "# Steps that need root call sudo. Order: " + ", ".join(PLAN_GROUPS) + ".",
           "# Regenerate it from the report: python -m reports fix REPORT.json",
           "set -e",
           "set -o pipefail",
           "",
           'if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then',
           "  echo 'run this as yourself, not with sudo: its steps call sudo where they need root' >&2",
           "  exit 1",
           "fi",
           ""]
    work = [s for s in plan if s.get("commands") or s.get("note")]
    if not work:
        out += ["# Nothing to fix: no failing check has a remedy.", "echo 'nothing to fix'", ""]
        return "\n".join(out)
    manual: list[str] = []
    for n, step in enumerate(work, 1):
        group = step.get("group", "manual")
        edits = ", ".join(step.get("edits") or [])
        title = f"step {n}/{len(work)}: {group}" + (f" ({edits})" if edits else "")
        out.append(f"# --- {_comment(title)}" + (" [needs root]" if step.get("root") and step.get("commands") else ""))
        out += [f"# fixes:  {_comment(c)}" for c in step.get("checks") or []]
        if step.get("source"):
            out.append(f"# source: {_comment(step['source'])}")
        if step.get("note"):
            out.append(f"# note:   {_comment(step['note'])}")
        commands = [str(c) for c in step.get("commands") or []]
        if not commands:
            manual.append(f"{title}: {_comment(step.get('note', ''))}")
            out += ["# (by hand: nothing to run here; listed again at the end)", ""]
            continue
        out.append(f"echo {shlex.quote('>>> ' + _comment(title))}")
        if group == REBOOT:
            out += ['answer=""',
                    "read -r -p 'Reboot now to apply the changes above? [y/N] ' answer || true",
                    'if [ "$answer" = y ] || [ "$answer" = Y ]; then',
                    *[f"  {c}" for c in commands],
                    "else",
                    "  echo 'not rebooting: the changes apply at the next boot'",
                    "fi"]
        else:
            out += commands
        out.append("")
    if manual:
        out.append("# --- still to do by hand")
        out += [f"echo {shlex.quote('by hand: ' + line)}" for line in manual]
        out.append("")
    out.append("echo 'fix plan done: re-run the suite to check'")
    return "\n".join(out) + "\n"


def plan_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's plan; built from its results when the report predates `fix_plan`."""
    plan = doc.get("fix_plan")
    if isinstance(plan, list):
        return plan
    return build_plan([r for r in doc.get("results") or [] if isinstance(r, dict)])


def script_for(doc: dict[str, Any], report_name: str) -> str:
    machine = doc.get("machine") if isinstance(doc.get("machine"), dict) else {}
    profile = machine.get("profile") if isinstance(machine.get("profile"), dict) else {}
    target = doc.get("target") if isinstance(doc.get("target"), dict) else {}
    about = "; ".join(x.rstrip(". ") for x in (profile.get("description"), target.get("how")) if isinstance(x, str) and x)
    return render_script(plan_of(doc), report_name, about)
