"""Many reports, one compatibility matrix: machines × areas (× checks on demand), with the
versions that explain the differences and, per arch and check, the first version of
each component that was seen working.

One row per machine × software stack: the machine is identified by what it is (CPU, GPU
targets, RAM), never by host name; the stack by kernel, ROCm and package versions.  A
newer report of the same machine and stack replaces the older one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from fixtures.versions import parse_version
from reports.document import area_name, check_name
from reports.page import VERDICT_CLASS
from reports.render import render

STACK = ("kernel", "rocm", "torch", "transformers", "onnxruntime", "ollama", "docker")
FIRST_WORKING_COMPONENTS = ("kernel", "rocm", "torch", "ollama")


@dataclass(frozen=True)
class Row:
    machine: str
    machine_id: str
    gfx: str
    stack: dict[str, str | None]
    areas: dict[str, dict[str, Any]]
    checks: dict[str, str]
    created: str
    status: str
    names: dict[str, str]  # nodeid -> the check's sentence


def _stack(doc: dict[str, Any]) -> dict[str, str | None]:
    s = doc.get("machine", {}).get("summary", {})
    versions = doc.get("versions", {})
    return {"kernel": s.get("kernel"), "rocm": s.get("rocm"),
            **{k: versions.get(k) for k in STACK if k not in ("kernel", "rocm")}}


def row_of(doc: dict[str, Any]) -> Row:
    s = doc.get("machine", {}).get("summary", {})
    gfx = ",".join(sorted({g.get("gfx") or "?" for g in s.get("gpus", [])})) or "none"
    ram = round((s.get("ram_bytes") or 0) / 2**30)
    name = f"{s.get('cpu') or 'unknown CPU'} / {gfx} / {ram} GiB"
    machine_id = hashlib.sha256(name.encode()).hexdigest()[:12]
    checks = {r["nodeid"]: r["outcome"] for r in doc.get("results", [])}
    names = {r["nodeid"]: check_name(r) for r in doc.get("results", [])}
    return Row(name, machine_id, gfx, _stack(doc), doc.get("areas", {}), checks,
               doc.get("created") or "", doc.get("status", "incomplete"), names)


def merge(docs: list[dict[str, Any]]) -> list[Row]:
    """Deduplicate by machine × stack, the newest report winning; sorted by machine."""
    best: dict[tuple, Row] = {}
    for doc in docs:
        row = row_of(doc)
        key = (row.machine_id, tuple(sorted(row.stack.items())))
        if key not in best or row.created > best[key].created:
            best[key] = row
    return sorted(best.values(), key=lambda r: (r.machine, r.created))


def first_working(rows: list[Row]) -> dict[tuple[str, str], dict[str, str]]:
    """(gfx, check) -> {component: lowest version seen passing}."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        for check, outcome in row.checks.items():
            if outcome != "passed":
                continue
            slot = found.setdefault((row.gfx, check), {})
            for comp in FIRST_WORKING_COMPONENTS:
                v = parse_version(row.stack.get(comp) or "")
                if v is not None and (comp not in slot or v < slot[comp][0]):
                    slot[comp] = (v, row.stack[comp])
    return {k: {c: text for c, (_, text) in v.items()} for k, v in found.items()}


def areas_of(rows: list[Row]) -> list[str]:
    return sorted({a for r in rows for a in r.areas})


def to_markdown(rows: list[Row]) -> str:
    areas = areas_of(rows)
    head = ["machine", "kernel", "ROCm", "torch", "ollama", *map(area_name, areas)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.machine, r.stack["kernel"] or "?", r.stack["rocm"] or "-", r.stack["torch"] or "-",
                 r.stack["ollama"] or "-"] + [r.areas.get(a, {}).get("verdict", "-") for a in areas]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: list[Row]) -> str:
    areas = areas_of(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["machine", "machine_id", "created", *STACK, *areas])
    for r in rows:
        writer.writerow([r.machine, r.machine_id, r.created, *(r.stack[k] or "" for k in STACK),
                         *(r.areas.get(a, {}).get("verdict", "") for a in areas)])
    return out.getvalue()


def to_html(rows: list[Row], with_checks: bool = False) -> str:
    """The matrix page (reports/templates/matrix.html.j2): one self-contained file."""
    areas = areas_of(rows)
    view = []
    for r in rows:
        cells = []
        for a in areas:
            info = r.areas.get(a)
            cells.append({"cls": VERDICT_CLASS.get(info.get("verdict"), "na") if info else "na",
                          "verdict": info.get("verdict") if info else "-",
                          "reason": info.get("reason") if info else "not run"})
        view.append({"machine": r.machine, "machine_id": r.machine_id, "created": r.created, "status": r.status,
                     "stack": r.stack, "cells": cells})
    check_rows = None
    if with_checks:
        names = {c: n for r in rows for c, n in r.names.items()}
        check_rows = [{"nodeid": c, "check": names.get(c, c), "outcomes": [r.checks.get(c, "-") for r in rows]}
                      for c in sorted({c for r in rows for c in r.checks})]
    first = [{"gfx": g, "check": c, "versions": ", ".join(f"{k} {v}" for k, v in comps.items())}
             for (g, c), comps in sorted(first_working(rows).items())]
    return render("matrix.html.j2", rows=view, areas=[(a, area_name(a)) for a in areas], check_rows=check_rows,
                  first_working=first)
