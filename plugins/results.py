"""One record per test, built from its reports (xdist forwards them to the controller):
area, check (its sentence, also for a test that never ran), outcome, message, verdict
(expected/found/remedy), known-issue match, measurements, cpu_side.

Every change is handed to the listeners (the report writer) with the record it changed,
so a run that dies half-way still leaves every test that had finished on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from plugins import hookspecs
from plugins.known_issues import NOT_REPRODUCED
from plugins.sentences import CHECK, CPU_SIDE
from plugins.state import run_state

results_key = pytest.StashKey["Results"]()
VERSIONS = "component_versions"
STARTED, REPORTED, FINISHED = "started", "reported", "finished"


def area_of(nodeid: str) -> str:
    """suites/kernel/test_x.py::t -> kernel; tests/... -> selftest; else 'other'."""
    parts = nodeid.split("::", 1)[0].split("/")
    if "suites" in parts:
        rest = parts[parts.index("suites") + 1:]
        return rest[0] if len(rest) > 1 else "other"
    if parts and parts[0] == "tests":
        return "selftest"
    return "other"


def plain_nodeid(nodeid: str) -> str:
    """The id without the `@group` xdist --dist loadgroup appends to grouped tests' ids."""
    return nodeid.removesuffix("@gpu")


def _reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail)
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, lineno, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(longrepr, "reprcrash", None)
        text = report.longreprtext
        return text if len(text) < 4000 or crash is None else str(crash.message)
    return ""


@dataclass(eq=False)  # registered as a plugin: must stay hashable
class Results:
    """The records of this run, in the order tests started."""

    config: pytest.Config
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # listener(record, event): event is STARTED, REPORTED (a phase's report) or FINISHED
    listeners: list[Callable[[dict[str, Any], str], None]] = field(default_factory=list)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple) -> None:
        """A record from the moment a test starts: if the run dies inside it, it shows as crashed."""
        self._tell(self._record(nodeid), STARTED)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Registered as a plugin object (like junitxml's LogXML), so the hook has its state."""
        self._tell(self.update(report), REPORTED)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        self._tell(self._record(nodeid), FINISHED)

    def _tell(self, record: dict[str, Any], event: str) -> None:
        for listener in self.listeners:
            listener(record, event)

    def _record(self, nodeid: str) -> dict[str, Any]:
        nodeid = plain_nodeid(nodeid)
        return self.records.setdefault(nodeid, {
            "nodeid": nodeid, "area": area_of(nodeid), "check": nodeid.split("::")[-1], "outcome": "running",
            "message": "", "duration": 0.0, "verdict": None, "measurements": {}, "known_issue": None,
            "known_issue_not_reproduced": [],
        })

    def update(self, report: pytest.TestReport) -> dict[str, Any]:
        rec = self._record(report.nodeid)
        rec["duration"] = round(rec["duration"] + getattr(report, "duration", 0.0), 4)
        for key, value in report.user_properties:
            if key == "verdict":
                rec["verdict"] = value
                rec["check"] = str(value.get("check") or rec["check"])
            elif key == CHECK and not rec["verdict"]:
                rec["check"] = str(value)
            elif key == CPU_SIDE:
                rec["cpu_side"] = str(value)
            elif key.startswith("measure:"):
                rec["measurements"][key.removeprefix("measure:")] = value
            elif key == "known_issue":
                rec["known_issue"] = value
            elif key == NOT_REPRODUCED:
                rec["known_issue_not_reproduced"] = list(value)
            elif key == VERSIONS and isinstance(value, dict):
                run_state(self.config).component_versions.update(value)
        outcome = _outcome(report, rec["outcome"])
        isolation = dict(report.user_properties).get("isolation")
        if isolation in ("crashed", "timeout"):
            outcome = isolation
        if outcome != rec["outcome"]:
            rec["outcome"] = outcome
            rec["message"] = _reason(report)
        self.config.hook.pytest_apu_result(record=rec, report=report)
        return rec



def _outcome(report: pytest.TestReport, previous: str) -> str:
    """Fold setup/call/teardown into one outcome; an error in any phase wins."""
    if report.when == "setup":
        if report.failed:
            return "error"
        if report.skipped:
            return "xfailed" if hasattr(report, "wasxfail") else "skipped"
        return "running"
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:  # teardown
        return "error"
    return "passed" if previous == "running" else previous


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Versions fixtures recorded (torch, ollama, docker ...) travel with the reports, so the
    report writer learns them even when the test ran in an isolated child or an xdist worker."""
    outcome = yield
    versions = run_state(item.config).component_versions
    if versions:
        props = outcome.get_result().user_properties  # often the item's own list: keep one entry
        plain = {str(k): str(v) for k, v in versions.items()}  # xdist can only send plain types
        props[:] = [p for p in props if p[0] != VERSIONS] + [(VERSIONS, plain)]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    results = Results(config)
    config.stash[results_key] = results
    config.pluginmanager.register(results, "apu-results")


def pytest_unconfigure(config: pytest.Config) -> None:
    results = config.stash.get(results_key, None)
    if results is not None:
        config.pluginmanager.unregister(results)
        del config.stash[results_key]
