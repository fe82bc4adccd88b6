"""The `known_issue(id)` marker.

A failure on a configuration the issue covers becomes xfail with the issue's link; the
same failure elsewhere fails as usual; a pass where the table says the issue applies is
flagged (a user property the results plugin lists in the summary and the report) so the
table gets updated (fixed_in / affected).
"""

from __future__ import annotations

from typing import Generator

import pytest

from fixtures.knowledge.matching import applies, component_versions
from fixtures.knowledge.tables import KnownIssue, known_issues
from plugins.state import run_state

NOT_REPRODUCED = "known_issue_not_reproduced"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    table = known_issues()
    for item in items:
        for mark in item.iter_markers("known_issue"):
            bad = [a for a in mark.args if a not in table]
            if not mark.args or bad:
                raise pytest.UsageError(f"{item.nodeid}: known_issue{mark.args!r}: unknown id(s) "
                                        f"{bad or '(none given)'}; known: {', '.join(sorted(table))}")


def _issues(item: pytest.Item) -> list[KnownIssue]:
    table = known_issues()
    return [table[i] for mark in item.iter_markers("known_issue") for i in mark.args]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    rep = outcome.get_result()
    issues = _issues(item)
    if not issues or rep.when != "call" or hasattr(rep, "wasxfail"):
        return
    state = run_state(item.config)
    versions = component_versions(state.profile, state.component_versions)
    matching = [(i, applies(i, state.target, versions)) for i in issues]
    covering = [(i, a) for i, a in matching if a.applies]
    if rep.failed and covering:
        issue, why = covering[0]
        lines = [l.strip() for l in rep.longreprtext.splitlines() if l.strip()]
        found = next((l for l in lines if l.startswith("found:")), lines[0] if lines else "")
        rep.outcome = "skipped"
        rep.wasxfail = f"known issue {issue.id}: {issue.title} ({issue.link}); {why.why}; {found[:300]}"
        rep.user_properties.append(("known_issue", {"id": issue.id, "link": issue.link, "applies": True}))
    elif rep.failed:
        rep.user_properties.append(("known_issue", {"id": issues[0].id, "link": issues[0].link, "applies": False,
                                                    "why": "; ".join(a.why for _, a in matching)}))
    elif rep.passed and covering:
        ids = [i.id for i, _ in covering]
        rep.user_properties.append((NOT_REPRODUCED, ids))
