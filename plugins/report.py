"""Where results end up: a JSON document (schema below) rewritten atomically after
every test, a self-contained pytest-html page beside it, and a terminal summary that
ends with the report's path and one line per area.

JSON schema `apu-conformance/1`:
  schema, created, finished (null while running), command, options, target, machine,
  summary {area: {outcome: count}}, results [record, ...]; plus sections added by
  `pytest_apu_report` implementations.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.unknown import Unknown
from plugins.results import Results, results_key
from plugins.state import run_state

SCHEMA = "apu-conformance/1"
report_key = pytest.StashKey["ReportWriter"]()
REDACTED_USER = "<user>"


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Unknown, versions and tuples as plain JSON values."""
    if isinstance(value, Unknown):
        return {"unknown": value.why}
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in ((f, getattr(value, f)) for f in value.__dataclass_fields__)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class ReportWriter:
    """Owns the report paths of this run and keeps the JSON file current."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        state = run_state(config)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}"
        n = 1
        while (directory / f"{name}.json").exists() or (directory / f"{name}.html").exists():
            n += 1  # two runs in one second (CI matrices, retries) keep both reports
            name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}-{n}"
        self.json_path = directory / f"{name}.json"
        self.html_path = directory / f"{name}.html"
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.error: str | None = None

    def document(self, results: Results, finished: bool) -> dict[str, Any]:
        state = run_state(self.config)
        machine = to_jsonable(state.profile)
        user = machine.get("user")
        if isinstance(user, dict) and "name" in user:
            user["name"] = REDACTED_USER
        doc = {
            "schema": SCHEMA,
            "created": self.created,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z") if finished else None,
            "command": ["pytest", *self.config.invocation_params.args],
            "options": to_jsonable(state.options),
            "target": {"requested": state.target.requested, "gfx": state.target.gfx,
                       "apu": state.target.apu, "how": state.target.how,
                       "arch": to_jsonable(state.target.arch)},
            "machine": machine,
            "versions": dict(state.component_versions),
            "html": str(self.html_path) if self.config.getoption("htmlpath", None) else None,
            "summary": results.counts_by_area(),
            "results": list(results.records.values()),
        }
        if finished:
            self.config.hook.pytest_apu_report(document=doc)
        return doc

    def write(self, results: Results, finished: bool = False) -> None:
        """Write atomically (temp file + rename): a crash never leaves half a JSON."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.json_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(self.document(results, finished), indent=1, default=str))
            os.replace(tmp, self.json_path)
        except OSError as exc:
            self.error = f"could not write {self.json_path}: {exc}"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    # Not tryfirst: it needs the run state and results (tryfirst hooks) and must set
    # htmlpath before pytest-html's own pytest_configure, which runs after ours because
    # conftest plugins register later (pluggy calls later registrations first).
    if _is_worker(config) or config.getoption("collectonly"):
        return
    opt = run_state(config).options.report_dir
    directory = Path(opt) if opt else Path(config.rootpath) / "reports"
    writer = ReportWriter(config, directory.resolve())
    config.stash[report_key] = writer
    config.stash[results_key].listeners.append(writer.write)
    if config.pluginmanager.hasplugin("html"):
        if not config.getoption("htmlpath", None):
            config.option.htmlpath = str(writer.html_path)
            config.option.self_contained_html = True
        else:
            writer.html_path = Path(config.getoption("htmlpath")).resolve()
        from plugins import html

        config.pluginmanager.register(html, "apu-html")


def pytest_sessionfinish(session: pytest.Session) -> None:
    writer = session.config.stash.get(report_key, None)
    results = session.config.stash.get(results_key, None)
    if writer is not None and results is not None:
        writer.write(results, finished=True)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Any:
    """Outermost wrapper, printing after pytest's short summary: the report path comes last."""
    yield
    results = config.stash.get(results_key, None)
    writer = config.stash.get(report_key, None)
    if results is None or writer is None:
        return
    tr = terminalreporter
    flagged = [r for r in results.records.values() if r["known_issue_not_reproduced"]]
    if flagged:
        tr.section("known issues that did not reproduce")
        for rec in flagged:
            tr.line(f"{rec['nodeid']}: passed although {', '.join(rec['known_issue_not_reproduced'])} should "
                    "apply here: update affected/fixed_in in fixtures/knowledge/known_issues.toml")
    tr.section("APU conformance")
    state = run_state(config)
    tr.line(f"target: {state.target.how}")
    for area, counts in sorted(results.counts_by_area().items()):
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items(), key=lambda kv: _ORDER.get(kv[0], 9)))
        bad = counts.get("failed", 0) + counts.get("error", 0)
        tr.line(f"{area:12} {parts}", red=bad > 0, green=bad == 0 and counts.get("passed", 0) > 0)
    if writer.error:
        tr.line(f"report: {writer.error}", red=True)
    else:
        tr.line(f"report: {writer.json_path}")
        if config.getoption("htmlpath", None):
            tr.line(f"report: {writer.html_path}")
    sys.stdout.flush()


_ORDER = {"failed": 0, "error": 1, "passed": 2, "xfailed": 3, "xpassed": 4, "skipped": 5}
