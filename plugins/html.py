"""pytest-html hooks: the page's title, a machine summary, Area / Finding columns, and the
log redacted like the report once pytest-html has written it (its captured output,
environment table and failure texts reach the file by paths no hook sees).

Registered by plugins/report.py only when pytest-html is installed, because pytest
rejects implementations of hooks nobody declared.
"""

from __future__ import annotations

import html as _html
from typing import Any

import pytest

from fixtures.sizes import format_bytes
from fixtures.unknown import known
from plugins.results import area_of
from plugins.state import run_state
from reports.redaction import redact_html_file


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Any:
    yield  # pytest-html writes the log in its own (trylast) pytest_sessionfinish
    from plugins.report import report_key

    writer = session.config.stash.get(report_key, None)
    if writer is not None and writer.redact and writer.log_path is not None:
        redact_html_file(writer.log_path, writer.secrets)


def pytest_html_report_title(report: Any) -> None:
    report.title = "APU conformance report"


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
    state = run_state(session.config)
    p, t = state.profile, state.target
    cards = ", ".join(
        f"{c.name}: VRAM {format_bytes(c.vram_total) if known(c.vram_total) else '?'}, "  # type: ignore[arg-type]
        f"GTT {format_bytes(c.gtt_total) if known(c.gtt_total) else '?'}" for c in p.amd_cards) or "none"  # type: ignore[arg-type]
    rows = [("Target", t.how), ("Machine", p.description), ("Kernel", str(p.kernel.release)),
            ("ROCm", str(p.rocm.version)), ("RAM", format_bytes(p.mem_total) if known(p.mem_total) else str(p.mem_total)),  # type: ignore[arg-type]
            ("amdgpu cards", cards)]
    prefix.extend(f"<p><b>{_html.escape(k)}:</b> {_html.escape(v)}</p>" for k, v in rows)


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, "<th>Area</th>")
    cells.insert(3, "<th>Finding</th>")


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    cells.insert(1, f"<td>{_html.escape(area_of(report.nodeid))}</td>")
    verdict = dict(getattr(report, "user_properties", [])).get("verdict")  # CollectReports have none
    text = ""
    if isinstance(verdict, dict):
        text = f"found: {verdict.get('found', '')}"
        if verdict.get("status") == "fail" and verdict.get("remedy"):
            text += f" | remedy: {verdict['remedy']}"
    cells.insert(3, f"<td>{_html.escape(text)}</td>")
