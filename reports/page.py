"""One self-contained HTML page per run, rendered from the JSON report.

Inline CSS, SVG and a few lines of JS only: the page makes no request and opens from a
file, so it can be attached to an issue or a forum post as it is.  Re-render any report
(a crashed run's too) with `python -m reports html REPORT.json`.
"""

from __future__ import annotations

import html
from typing import Any

from fixtures.sizes import format_bytes
from reports.document import status_note

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header .sub{opacity:.85}main{padding:18px 28px;max-width:1280px}
h2{font-size:17px;margin:26px 0 10px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;margin-left:8px;background:#555}
.badge.complete{background:#2e7d32}.badge.running,.badge.interrupted,.badge.incomplete{background:#b26a00}
.badge.internal-error,.badge.killed{background:#b00020}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 210px;border-radius:8px;padding:12px 14px;background:#fff;border-left:6px solid #999;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h3{margin:0 0 2px;font-size:15px;text-transform:capitalize}.card .v{font-weight:600;margin-bottom:4px}
.card.works{border-color:#2e7d32}.card.works .v{color:#2e7d32}
.card.caveats{border-color:#b26a00}.card.caveats .v{color:#b26a00}
.card.broken{border-color:#b00020}.card.broken .v{color:#b00020}
.card.na{border-color:#9aa0a6}.card.na .v{color:#5f6368}
table{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid #e3e5e8;vertical-align:top}
th{background:#eceef1;font-weight:600}table.kv th{width:210px}
td.msg{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;max-width:640px}
.o-passed{color:#2e7d32}.o-failed,.o-error,.o-crashed,.o-timeout{color:#b00020;font-weight:600}
.o-skipped{color:#5f6368}.o-xfailed,.o-xpassed{color:#b26a00}
.filters{margin:8px 0;display:flex;gap:10px;align-items:center}
.filters select,.filters input{padding:4px 6px}
svg text{font:12px system-ui,sans-serif}.muted{color:#5f6368}
"""

JS = """
function applyFilters(){
  var area=document.getElementById('f-area').value, outcome=document.getElementById('f-outcome').value,
      text=document.getElementById('f-text').value.toLowerCase(), shown=0;
  document.querySelectorAll('#checks tbody tr').forEach(function(tr){
    var ok=(!area||tr.dataset.area===area)&&(!outcome||tr.dataset.outcome===outcome)&&
           (!text||tr.textContent.toLowerCase().indexOf(text)>=0);
    tr.style.display=ok?'':'none'; if(ok){shown++;}
  });
  document.getElementById('f-count').textContent=shown+' shown';
}
document.addEventListener('DOMContentLoaded', function(){
  // a link such as report.html#area=kernel&outcome=failed opens pre-filtered
  new URLSearchParams(location.hash.slice(1)).forEach(function(value, key){
    var el=document.getElementById('f-'+key); if(el){el.value=value;}
  });
  applyFilters();
});
"""

VERDICT_CLASS = {"works": "works", "works with caveats": "caveats", "broken": "broken", "not applicable": "na"}


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _size(value: Any) -> str:
    return format_bytes(value) if isinstance(value, int) else "unknown"


def _cards(doc: dict[str, Any]) -> str:
    cards = []
    for area, info in doc.get("areas", {}).items():
        cls = VERDICT_CLASS.get(info.get("verdict"), "na")
        cards.append(f'<div class="card {cls}" data-area="{e(area)}"><h3>{e(area)}</h3>'
                     f'<div class="v">{e(info.get("verdict"))}</div><div>{e(info.get("reason"))}</div></div>')
    return '<div class="cards" id="verdicts">' + "".join(cards) + "</div>" if cards else "<p>No checks ran.</p>"


def _machine(doc: dict[str, Any]) -> str:
    s = doc.get("machine", {}).get("summary", {})
    v = doc.get("versions", {})
    gpus = "; ".join(f"{g.get('name')} ({g.get('gfx') or 'gfx unknown'})" for g in s.get("gpus", [])) or "none found"
    rows = [("Target", doc.get("target", {}).get("how")), ("CPU", s.get("cpu")), ("GPUs", gpus),
            ("RAM", _size(s.get("ram_bytes"))), ("VRAM carve-out", _size(s.get("vram_bytes"))),
            ("GTT limit", _size(s.get("gtt_bytes"))), ("Kernel", s.get("kernel")), ("Distribution", s.get("distro")),
            ("ROCm", s.get("rocm") or "not found"), ("HSA_OVERRIDE_GFX_VERSION", s.get("hsa_override") or "unset")]
    rows += [(name, version or "not installed") for name, version in sorted(v.items())]
    rows += [(k, val) for k, val in sorted(s.get("env", {}).items()) if k != "HSA_OVERRIDE_GFX_VERSION"]
    return '<table class="kv" id="machine">' + "".join(f"<tr><th>{e(k)}</th><td>{e(val)}</td></tr>"
                                                      for k, val in rows) + "</table>"


def _bars(items: list[tuple[str, float, str]], scale: float, color: str, svg_id: str) -> str:
    """Horizontal bars: (label, value, text) scaled to `scale`."""
    height = 26 * len(items) + 8
    rows = []
    for i, (label, value, text) in enumerate(items):
        width = 0 if scale <= 0 else max(1.0, 520 * min(value / scale, 1.0))
        y = 6 + 26 * i
        rows.append(f'<text x="0" y="{y + 14}">{e(label)}</text>'
                    f'<rect x="190" y="{y}" width="{width:.1f}" height="18" rx="3" fill="{color}"/>'
                    f'<text x="{196 + width:.1f}" y="{y + 14}">{e(text)}</text>')
    return (f'<svg id="{svg_id}" width="900" height="{height}" viewBox="0 0 900 {height}" '
            f'xmlns="http://www.w3.org/2000/svg" role="img">{"".join(rows)}</svg>')


def _memory(doc: dict[str, Any]) -> str:
    s = doc.get("machine", {}).get("summary", {})
    used = [r["measurements"]["bytes"] for r in doc.get("results", [])
            if r.get("outcome") == "passed" and isinstance(r.get("measurements", {}).get("bytes"), int)]
    items = [("RAM", s.get("ram_bytes")), ("VRAM carve-out", s.get("vram_bytes")), ("GTT limit", s.get("gtt_bytes")),
             ("largest test allocation", max((u for u in used if isinstance(u, int)), default=None))]
    known = [(label, float(value), format_bytes(value)) for label, value in items if isinstance(value, int)]
    if not known:
        return '<p class="muted">No memory sizes known.</p>'
    return _bars(known, max(v for _, v, _ in known), "#3f6fb5", "memory-chart")


def _throughput(doc: dict[str, Any]) -> str:
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
        return '<p class="muted">No throughput was measured in this run.</p>'
    with_peak = all(p for _, _, p, _ in items)
    if with_peak:
        bars = [(label, value / peak, text) for label, value, peak, text in items]  # type: ignore[operator]
        return _bars(bars, 1.0, "#7b4fb5", "throughput-chart")
    return _bars([(label, value, text) for label, value, _, text in items],
                 max(v for _, v, _, _ in items), "#7b4fb5", "throughput-chart")


def _known_issues(doc: dict[str, Any]) -> str:
    hit, stale = [], []
    for rec in doc.get("results", []):
        ki = rec.get("known_issue") or {}
        if ki.get("applies"):
            hit.append(f'<li><a href="{e(ki.get("link"))}">{e(ki.get("id"))}</a>: {e(rec["nodeid"])}</li>')
        for issue in rec.get("known_issue_not_reproduced", []):
            stale.append(f"<li>{e(issue)} did not reproduce in {e(rec['nodeid'])}: the table may need updating</li>")
    if not hit and not stale:
        return '<p class="muted">No known issue was hit.</p>'
    return "<ul>" + "".join(hit + stale) + "</ul>"


def _checks(doc: dict[str, Any]) -> str:
    results = doc.get("results", [])
    areas = sorted({r["area"] for r in results})
    outcomes = sorted({r["outcome"] for r in results})
    rows = []
    for r in results:
        verdict = r.get("verdict") or {}
        check = verdict.get("check") or r["nodeid"].split("::")[-1]
        found = verdict.get("found") if verdict else r.get("message", "")
        if r["outcome"] not in ("passed",) and r.get("message") and not verdict:
            found = r["message"]
        remedy = verdict.get("remedy", "") if r["outcome"] in ("failed", "error", "crashed", "timeout") else ""
        rows.append(f'<tr data-area="{e(r["area"])}" data-outcome="{e(r["outcome"])}"><td>{e(r["area"])}</td>'
                    f'<td class="o-{e(r["outcome"])}">{e(r["outcome"])}</td><td title="{e(r["nodeid"])}">{e(check)}</td>'
                    f'<td class="msg">{e(found)}</td><td>{e(remedy)}</td></tr>')
    options = lambda values: "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)  # noqa: E731
    return (f'<div class="filters">Area <select id="f-area" onchange="applyFilters()"><option value="">all</option>'
            f'{options(areas)}</select> Outcome <select id="f-outcome" onchange="applyFilters()">'
            f'<option value="">all</option>{options(outcomes)}</select>'
            f'<input id="f-text" placeholder="search" oninput="applyFilters()"> <span id="f-count"></span></div>'
            f'<table id="checks"><thead><tr><th>Area</th><th>Outcome</th><th>Check</th><th>Found / message</th>'
            f'<th>Remedy</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_page(doc: dict[str, Any]) -> str:
    """The whole page for one report document (already redacted as its JSON is)."""
    status = doc.get("status", "incomplete")
    note = status_note(doc)
    log = doc.get("log_html")
    footer = (f'<p>Detailed log: <a href="{e(log)}">{e(log)}</a> (pytest-html). ' if log else "<p>") + \
        f"Command: <code>{e(' '.join(doc.get('command', [])))}</code>. Schema {e(doc.get('schema'))}" + \
        ("; host and user names, addresses, serials and secrets redacted" if doc.get("redacted") else "") + ".</p>"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>APU conformance: '
            f'{e(doc.get("target", {}).get("gfx") or "no AMD GPU")}</title><style>{CSS}</style></head><body>'
            f'<header><h1>APU conformance report<span class="badge {e(status)}" id="status">{e(status)}</span></h1>'
            f'<div class="sub">{e(doc.get("target", {}).get("how"))} · {e(doc.get("created"))}</div>'
            f'{f"<div>{e(note)}</div>" if note else ""}</header><main>'
            f'<h2>Verdicts</h2>{_cards(doc)}<h2>Machine</h2>{_machine(doc)}'
            f'<h2>Memory</h2>{_memory(doc)}<h2>Throughput</h2>{_throughput(doc)}'
            f'<h2>Known issues</h2>{_known_issues(doc)}<h2>Checks</h2>{_checks(doc)}{footer}'
            f'</main><script>{JS}</script></body></html>')
