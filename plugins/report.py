"""Where results end up: the JSON report (reports/schema.json) and the one-page HTML
rendered from it (reports/page.py), both rewritten atomically after every test so an
interrupted, crashed or killed run still leaves valid files; pytest-html's page as the
detailed log; the diff against --baseline; and the terminal summary, which ends with
one line per area and the reports' paths.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from plugins.results import Results, results_key
from plugins.state import run_state
from reports.document import SCHEMA, area_verdicts, machine_summary, redact, to_jsonable

report_key = pytest.StashKey["ReportWriter"]()
EXIT_INTERRUPTED = 2
EXIT_INTERNAL = 3


def _secrets(profile: Any) -> tuple[str, ...]:
    """Names to take out of a shareable report: this host's and this user's."""
    names = {socket.gethostname()}
    try:
        names.add(getpass.getuser())
    except (KeyError, OSError):
        pass
    user = getattr(profile.user, "name", None)
    if isinstance(user, str):
        names.add(user)
    return tuple(n for n in names if n and len(n) >= 3 and n not in ("root", "user", "<user>"))


class ReportWriter:  # noqa: D101 - registered as a plugin object: keep it hashable (no dataclass)
    """Owns the report paths of this run and keeps the JSON file current."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        state = run_state(config)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}"
        n = 1
        while any((directory / f"{name}{ext}").exists() for ext in (".json", ".html", "-log.html")):
            n += 1  # two runs in one second (CI matrices, retries) keep both reports
            name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}-{n}"
        self.json_path = directory / f"{name}.json"
        self.html_path = directory / f"{name}.html"
        self.log_path: Path | None = None
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.status = "running"
        self.error: str | None = None
        self.baseline: dict[str, Any] | None = None
        self.redact = not config.getoption("no_redact", False)

    def document(self, results: Results) -> dict[str, Any]:
        state = run_state(self.config)
        versions = dict(state.profile.package_versions)  # the recording's, when replaying one
        versions.update(state.component_versions)
        records = list(results.records.values())
        doc = {
            "schema": SCHEMA,
            "status": self.status,
            "created": self.created,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z") if self.status != "running" else None,
            "redacted": self.redact,
            "command": ["pytest", *self.config.invocation_params.args],
            "options": to_jsonable(state.options),
            "target": {"requested": state.target.requested, "gfx": state.target.gfx,
                       "apu": state.target.apu, "how": state.target.how,
                       "arch": to_jsonable(state.target.arch)},
            "machine": {"summary": machine_summary(state.profile, state.target),
                        "profile": to_jsonable(state.profile)},
            "versions": versions,
            "areas": area_verdicts(records),
            "summary": results.counts_by_area(),
            "html": self.html_path.name,
            "log_html": self.log_path.name if self.log_path else None,
            "baseline": self.baseline,
            "results": records,
        }
        if self.status != "running":
            self.config.hook.pytest_apu_report(document=doc)
        return redact(doc, _secrets(state.profile)) if self.redact else doc

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        """Registered as a plugin: pytest itself failed, so no pass in this run is to be trusted."""
        self.status = "internal-error"
        results = self.config.stash.get(results_key, None)
        if results is not None:
            self.write(results)

    def write(self, results: Results) -> dict[str, Any] | None:
        """Write atomically (temp file + rename): a crash never leaves half a JSON."""
        import json

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            doc = self.document(results)
            tmp = self.json_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(doc, indent=1, default=str))
            os.replace(tmp, self.json_path)
            from reports.page import render_page

            page = self.html_path.with_suffix(".html.tmp")  # the page too: a killed run still has one
            page.write_text(render_page(doc))
            os.replace(page, self.html_path)
            return doc
        except OSError as exc:
            self.error = f"could not write {self.json_path}: {exc}"
            return None


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apu")
    group.addoption("--no-redact", action="store_true", default=False,
                    help="keep host and user names, addresses, home paths and serials in the reports")
    group.addoption("--baseline", default=None, metavar="OLD.json",
                    help="compare with an earlier report: list regressions and fixes; a regression fails the run")


def pytest_configure(config: pytest.Config) -> None:
    # Not tryfirst: it needs the run state and results (tryfirst hooks) and must set
    # htmlpath before pytest-html's own pytest_configure, which runs after ours because
    # conftest plugins register later (pluggy calls later registrations first).
    if _is_worker(config) or config.getoption("collectonly"):
        return
    baseline = config.getoption("baseline")
    if baseline:
        from reports.document import ReportError, load

        try:
            config.stash[baseline_key] = load(baseline)
        except ReportError as exc:
            raise pytest.UsageError(f"--baseline: {exc}") from None
    opt = run_state(config).options.report_dir
    directory = Path(opt) if opt else Path(config.rootpath) / "reports"
    writer = ReportWriter(config, directory.resolve())
    config.stash[report_key] = writer
    config.pluginmanager.register(writer, "apu-report-writer")
    config.stash[results_key].listeners.append(writer.write)
    if config.pluginmanager.hasplugin("html"):
        if not config.getoption("htmlpath", None):
            writer.log_path = writer.html_path.with_name(writer.html_path.stem + "-log.html")
            config.option.htmlpath = str(writer.log_path)
            config.option.self_contained_html = True
        else:
            writer.log_path = Path(config.getoption("htmlpath")).resolve()
        from plugins import html

        config.pluginmanager.register(html, "apu-html")


baseline_key = pytest.StashKey[dict]()


def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.stash.get(report_key, None)
    if writer is not None and config.pluginmanager.is_registered(writer):
        config.pluginmanager.unregister(writer)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    writer = config.stash.get(report_key, None)
    results = config.stash.get(results_key, None)
    if writer is None or results is None:
        return
    writer.status = {EXIT_INTERRUPTED: "interrupted", EXIT_INTERNAL: "internal-error"}.get(int(exitstatus), "complete")
    old = config.stash.get(baseline_key, None)
    if old is not None:
        from reports.diff import diff_documents

        first = writer.write(results)
        if first is not None:
            writer.baseline = diff_documents(old, first)
            if writer.baseline["regressions"] and session.exitstatus == 0:
                session.exitstatus = 1
    writer.write(results)


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
    if writer.baseline is not None:
        from reports.diff import diff_lines

        tr.section("compared with the baseline")
        for line in diff_lines(writer.baseline):
            tr.line(line, red=line.startswith("REGRESSION"), green=line.startswith("FIXED"))
    tr.section("APU conformance")
    state = run_state(config)
    tr.line(f"target: {state.target.how}")
    for area, verdict in area_verdicts(list(results.records.values())).items():
        counts = verdict["counts"]
        parts = ", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda kv: _ORDER.get(kv[0], 9)))
        bad = verdict["verdict"] == "broken"
        tr.line(f"{area:12} {parts}", red=bad, green=verdict["verdict"] == "works")
    if writer.error:
        tr.line(f"report: {writer.error}", red=True)
    else:
        tr.line(f"report: {writer.json_path}")
        tr.line(f"report: {writer.html_path}")
        if writer.log_path:
            tr.line(f"log:    {writer.log_path}")


_ORDER = {"failed": 0, "error": 1, "crashed": 1, "timeout": 1, "passed": 2, "xfailed": 3, "xpassed": 4, "skipped": 5}
