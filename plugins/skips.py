"""Skip a test so that `-rs` shows the test's own location, not the plugin line that
raised (pytest does this for its skip markers through `_use_item_location`)."""

from __future__ import annotations

import pytest


def skip_here(reason: str) -> None:
    try:
        raise pytest.skip.Exception(reason, _use_item_location=True)  # type: ignore[call-arg]
    except TypeError:  # a pytest without the keyword: plain skip
        pytest.skip(reason)
