"""Every check's sentence and what it proves, known before it runs.

A check names itself in its Verdict, but a test skipped by its markers (no AMD GPU, a
missing component) never builds one: the report would list it by its function name.
So each test's docstring (its first line) is its sentence, read at collection, and a
test marked `cpu_side` says it proves only the CPU side (offline access, CPU-provider
parity): such checks alone cannot make an area "works" (reports/document.py).

Both travel in `user_properties`, which every phase's report carries (xdist forwards
them), so the record of a test skipped at setup has them too.
"""

from __future__ import annotations

import pytest

CHECK = "check"  # user_properties key: the check's sentence
CPU_SIDE = "cpu_side"  # user_properties key: why this check proves only the CPU side


def sentence_of(item: pytest.Item) -> str:
    """The docstring's first line, else the function name in words; parameters in brackets."""
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    text = doc.splitlines()[0].strip().rstrip(".") if doc else name.removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    return f"{text} ({callspec.id})" if callspec is not None and callspec.id else text


def cpu_side_reason(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker(CPU_SIDE)
    if mark is None:
        return None
    return str(mark.args[0]) if mark.args else "proves only the CPU side"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.user_properties.append((CHECK, sentence_of(item)))
        reason = cpu_side_reason(item)
        if reason:
            item.user_properties.append((CPU_SIDE, reason))
