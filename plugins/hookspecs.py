"""Hooks other plugins (or a conftest) may implement to extend the results and report,
in the manner of pytest-html's hooks.py."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_apu_result(record: dict[str, Any], report: pytest.TestReport) -> None:
    """Called when a test's record changes; add keys to `record` (it is JSON-serialised).

    :param record: the test's result record (see plugins/results.py for its keys).
    :param report: the pytest report that changed it.
    """


@pytest.hookspec
def pytest_apu_report(document: dict[str, Any]) -> None:
    """Called before the JSON report is written; add top-level sections to `document`."""
