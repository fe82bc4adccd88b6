"""Where results end up: the JSON report (reports/schema.json) and the one-page HTML
rendered from it (reports/page.py); pytest-html's page as the detailed log; the diff
against --baseline; and the terminal summary, which ends with one line per area and the
reports' paths.

How it is written, in time linear in the number of tests: each test appends a line to a
record file beside the report when it starts and when it finishes (reports/records.py);
the whole JSON, the page and the fix plan (`…-fix.sh`, reports/fixplan.py) are rewritten
atomically at the start, at most about once a second (and never taking more than a
tenth of the run), and at the end.  A run that is killed at any point so leaves a valid
report, a fix plan for the failures so far, and the record of every finished test, which
`python -m reports` lays over it; a finished run removes the record file.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures.knowledge.horizon import horizon_entries, horizon_lines
from fixtures.knowledge.matching import component_versions
from plugins.interrupts import interrupting_signal
from plugins.results import FINISHED, REPORTED, plain_nodeid, results_key
from plugins.state import run_state
from reports.document import (BAD, SCHEMA, area_name, area_verdicts, found_line, machine_summary, skip_groups,
                              summary_of, to_jsonable)
from reports.fixplan import SCRIPT_SUFFIX, build_plan, script_for
from reports.process import this_process
from reports.records import SUFFIX, RecordFile
from reports.redaction import redact, secret_values

report_key = pytest.StashKey["ReportWriter"]()
EXIT_INTERRUPTED = 2
EXIT_INTERNAL = 3
REWRITE_INTERVAL = 1.0  # seconds between full rewrites while tests run
REWRITE_SHARE = 10  # ... and at least this many times the last rewrite took


def _secrets(profile: Any, args: tuple[str, ...]) -> tuple[str, ...]:
    """Literals to take out of a shareable report: this host's and this user's names, the values
    of secret-named environment variables and the passwords of URLs given (reports/redaction.py)."""
    names = {socket.gethostname()}
    try:
        names.add(getpass.getuser())
    except (KeyError, OSError):
        pass
    user = getattr(profile.user, "name", None)
    if isinstance(user, str):
        names.add(user)
    names = {n for n in names if n and len(n) >= 3 and n not in ("root", "user", "<user>")}
    return secret_values(os.environ, args) + tuple(sorted(names, key=len, reverse=True))


class ReportWriter:  # noqa: D101 - registered as a plugin object: keep it hashable (no dataclass)
    """Owns the report paths of this run and keeps the files current (see the module's docstring)."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        state = run_state(config)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}"
        n = 1
        while any((directory / f"{name}{ext}").exists() for ext in (".json", ".html", "-log.html", SCRIPT_SUFFIX, SUFFIX)):
            n += 1  # two runs in one second (CI matrices, retries) keep both reports
            name = f"apu-{state.target.gfx or 'nogpu'}-{stamp}-{n}"
        self.json_path = directory / f"{name}.json"
        self.html_path = directory / f"{name}.html"
        self.fix_path = directory / f"{name}{SCRIPT_SUFFIX}"  # the fix plan as a script, never run by the suite
        self.records = RecordFile(directory / f"{name}{SUFFIX}")
        self.log_path: Path | None = None
        self.fix_steps = 0  # steps with commands in the last plan written
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.status = "running"
        self.error: str | None = None
        self.baseline: dict[str, Any] | None = None
        self.redact = not config.getoption("no_redact", False)
        self.secrets = _secrets(state.profile, tuple(config.invocation_params.args))
        self._shared: dict[str, Any] | None = None  # the parts that do not change during the run, redacted
        self._done: dict[str, dict[str, Any]] = {}  # finished tests' records, redacted once
        self._next_rewrite = 0.0
        self._order: dict[str, int] = {}  # collection order: the finished report lists tests in it
        self.rewrites = 0
        self.busy = 0.0  # seconds spent writing (benchmarks/speed.py reads it)

    def _clean(self, value: Any) -> Any:
        return redact(value, self.secrets) if self.redact else value

    def _shared_parts(self) -> dict[str, Any]:
        """Built and redacted once: the machine profile alone is most of a document's size."""
        if self._shared is None:
            state = run_state(self.config)
            self._shared = self._clean({
                "created": self.created,
                "redacted": self.redact,
                "command": ["pytest", *self.config.invocation_params.args],
                "options": to_jsonable(state.options),
                "target": {"requested": state.target.requested, "gfx": state.target.gfx,
                           "apu": state.target.apu, "how": state.target.how,
                           "arch": to_jsonable(state.target.arch)},
                "machine": {"summary": machine_summary(state.profile, state.target),
                            "profile": to_jsonable(state.profile)},
                **this_process(),
            })
        return self._shared

    def document(self) -> dict[str, Any]:
        state = run_state(self.config)
        versions = dict(state.profile.package_versions)  # the recording's, when replaying one
        versions.update(state.component_versions)
        finished = self.status != "running"
        results = self.config.stash[results_key].records  # every record, in the order tests started
        records = [self._done.get(nodeid) or self._clean(rec) for nodeid, rec in results.items()]
        if finished:  # the same order however xdist spread the tests
            records.sort(key=lambda rec: self._order.get(rec["nodeid"], len(self._order)))
        areas = area_verdicts(records)
        doc = {
            "schema": SCHEMA,
            "status": self.status,
            **self._shared_parts(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z") if finished else None,
            "signal": interrupting_signal(self.config),
            "records": None if finished else self.records.path.name,
            "versions": self._clean(versions),
            "horizon": horizon_entries(component_versions(state.profile, state.component_versions)),
            "areas": areas,
            "summary": summary_of(areas),
            "html": self.html_path.name,
            "log_html": self.log_path.name if self.log_path else None,
            "baseline": self._clean(self.baseline),
            "fix_plan": build_plan(records),
            "fix_script": self.fix_path.name,
            "results": records,
        }
        if finished:
            self.config.hook.pytest_apu_report(document=doc)
            doc = self._clean(doc)  # what hooks added
        return doc

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        """Registered as a plugin: pytest itself failed, so no pass in this run is to be trusted."""
        self.status = "internal-error"
        self.write()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """A valid report from the start: a run that dies while collecting still leaves one."""
        self.write()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._remember_order(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under xdist the controller collects nothing itself: every worker sends the same ids."""
        if not self._order:
            self._remember_order(ids)

    def _remember_order(self, ids: Any) -> None:
        self._order = {plain_nodeid(nodeid): n for n, nodeid in enumerate(ids)}

    def changed(self, record: dict[str, Any], event: str) -> None:
        """A test started, reported a phase or finished (plugins/results.py calls this)."""
        start = time.monotonic()
        nodeid = record["nodeid"]
        self._done.pop(nodeid, None)
        if event != REPORTED:  # one line when it starts, one when it is finished
            clean = self._clean(record)
            if event == FINISHED:
                self._done[nodeid] = clean
            try:
                self.records.append(clean)
            except OSError as exc:
                self.error = f"could not write {self.records.path}: {exc}"
        self.busy += time.monotonic() - start
        if time.monotonic() >= self._next_rewrite:
            self.write()

    def write(self) -> dict[str, Any] | None:
        """Rewrite the JSON and the page atomically (temp file + rename): a crash never leaves half a file."""
        start = time.monotonic()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            doc = self.document()
            tmp = self.json_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(doc, indent=1, default=str))
            os.replace(tmp, self.json_path)
            from reports.page import render_page

            page = self.html_path.with_suffix(".html.tmp")  # the page too: a killed run still has one
            page.write_text(render_page(doc))
            os.replace(page, self.html_path)
            script = self.fix_path.with_name(self.fix_path.name + ".tmp")  # rewritten with the report: crash-safe
            script.write_text(script_for(doc, self.json_path.name))
            os.replace(script, self.fix_path)
            self.fix_steps = sum(1 for step in doc["fix_plan"] if step["commands"])
            if doc["status"] == "running":
                self.records.sync()
            else:
                self.records.remove()  # the report holds every record now
        except OSError as exc:
            self.error = f"could not write {self.json_path}: {exc}"
            return None
        finally:
            took = time.monotonic() - start
            self.busy += took
            self._next_rewrite = time.monotonic() + max(REWRITE_INTERVAL, REWRITE_SHARE * took)
            self.rewrites += 1
        return doc


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
    config.stash[results_key].listeners.append(writer.changed)
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
    if writer is None:
        return
    writer.status = {EXIT_INTERRUPTED: "interrupted", EXIT_INTERNAL: "internal-error"}.get(int(exitstatus), "complete")
    old = config.stash.get(baseline_key, None)
    if old is not None:
        from reports.diff import diff_documents

        writer.baseline = diff_documents(old, writer.document())
        if writer.baseline["regressions"] and session.exitstatus == 0:
            session.exitstatus = 1
    writer.write()


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
    records = list(results.records.values())
    _checks_summary(tr, records)
    state = run_state(config)
    target = state.target
    tr.section(f"APU conformance: {target.gfx or 'no AMD GPU'}" + (" (--apu)" if target.requested != "auto" else ""))
    for area, verdict in area_verdicts(records).items():
        counts = verdict["counts"]
        parts = ", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda kv: _ORDER.get(kv[0], 9)))
        tr.line(f"{area_name(area):13}{verdict['verdict']}: {parts}", red=verdict["verdict"] == "broken",
                green=verdict["verdict"] == "works", yellow=verdict["verdict"] == "works with caveats")
    for line in horizon_lines(records, component_versions(state.profile, state.component_versions)):
        tr.line(line, yellow=True)
    if writer.error:
        tr.line(f"report: {writer.error}", red=True)
    else:
        tr.line(f"report: {writer.html_path}")
        if writer.fix_steps:
            steps = f"{writer.fix_steps} step{'s' if writer.fix_steps > 1 else ''}"
            tr.line(f"fix:    {writer.fix_path} ({steps} to run; read it, then: bash {writer.fix_path.name})")
        tr.line(f"data:   {writer.json_path}" + (f" (log: {writer.log_path.name})" if writer.log_path else ""))


def _checks_summary(tr: Any, records: list[dict[str, Any]]) -> None:
    """What did not pass, one line each: a failure with its check's sentence and what was found,
    skips grouped by reason with their count (pytest's -rs still lists every skipped test)."""
    bad = [r for r in records if r["outcome"] in BAD]
    groups = skip_groups(records)
    if not bad and not groups:
        return
    skipped = sum(g["count"] for g in groups)
    tr.section("checks that did not pass" + (f" ({skipped} skipped, grouped by reason; -rs lists each)"
                                             if groups else ""))
    for rec in bad:
        tr.line(f"{rec['outcome'].upper()} {rec['nodeid']} - {found_line(rec)}", red=True)
    for group in groups:
        areas = ", ".join(area_name(a) for a in group["areas"])
        tr.line(f"SKIPPED [{group['count']}] {areas}: {group['reason']}", yellow=True)


_ORDER = {"failed": 0, "error": 1, "crashed": 1, "timeout": 1, "passed": 2, "xfailed": 3, "xpassed": 4, "skipped": 5}
