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
from reports.page import CSS, VERDICT_CLASS, e

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
    return Row(name, machine_id, gfx, _stack(doc), doc.get("areas", {}), checks,
               doc.get("created") or "", doc.get("status", "incomplete"))


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
    head = ["machine", "kernel", "ROCm", "torch", "ollama", *areas]
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
    areas = areas_of(rows)
    head = "".join(f"<th>{e(h)}</th>" for h in ["Machine", "Kernel", "ROCm", "torch", "ollama", *areas])
    body = []
    for r in rows:
        ended = "" if r.status == "complete" else f' · <span class="status {e(r.status)}">{e(r.status)}</span>'
        cells = [f'<td title="{e(r.machine_id)}">{e(r.machine)}<br><span class="muted">{e(r.created)}</span>{ended}</td>']
        cells += [f"<td>{e(r.stack[k] or '-')}</td>" for k in ("kernel", "rocm", "torch", "ollama")]
        for a in areas:
            info = r.areas.get(a)
            cls = VERDICT_CLASS.get(info.get("verdict"), "na") if info else "na"
            cells.append(f'<td class="cell {cls}" title="{e(info.get("reason") if info else "not run")}">'
                         f'{e(info.get("verdict") if info else "-")}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    extra = ""
    if with_checks:
        checks = sorted({c for r in rows for c in r.checks})
        ch_head = "".join(f"<th>{e(r.machine)}</th>" for r in rows)
        ch_rows = "".join(f"<tr><td>{e(c)}</td>" + "".join(
            f'<td class="o-{e(r.checks.get(c, "-"))}">{e(r.checks.get(c, "-"))}</td>' for r in rows) + "</tr>"
            for c in checks)
        extra = f'<h2>Checks</h2><table id="check-matrix"><tr><th>Check</th>{ch_head}</tr>{ch_rows}</table>'
    fw = first_working(rows)
    fw_rows = "".join(f"<tr><td>{e(g)}</td><td>{e(c)}</td><td>{e(', '.join(f'{k} {v}' for k, v in comps.items()))}</td></tr>"
                      for (g, c), comps in sorted(fw.items()))
    cell_css = ".cell.works{background:#e6f4ea}.cell.caveats{background:#fff4e5}.cell.broken{background:#fde7e9}" \
               ".cell.na{background:#f1f3f4;color:#5f6368}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>APU compatibility matrix</title>'
            f'<style>{CSS}{cell_css}</style></head><body><header><h1>APU compatibility matrix</h1>'
            f'<div class="sub">{len(rows)} machine × software stacks</div></header><main>'
            f'<table id="matrix"><tr>{head}</tr>{"".join(body)}</table>{extra}'
            f'<h2>First version seen working</h2><table id="first-working"><tr><th>gfx</th><th>Check</th>'
            f'<th>Lowest versions that passed</th></tr>{fw_rows}</table></main></body></html>')
