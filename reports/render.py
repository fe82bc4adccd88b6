"""Jinja2 templates for the report page and the matrix (reports/templates/).

The templates hold the markup; CSS and JS live beside them as plain files and are inlined
at render time (`asset`), so every page stays one self-contained file that opens offline
and can be attached to an issue.  pytest-html renders its page the same way, and brings
jinja2 with it.  Autoescaping is on: every value from a report is escaped; only our own
assets are inserted as they are.  StrictUndefined: a misspelt name fails the self-test
that renders every template (tests/test_templates.py) instead of printing nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).with_name("templates")
ASSETS = ("style.css", "page.js")


@lru_cache(maxsize=None)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.globals["asset"] = asset
    return env


def asset(name: str) -> Any:
    """A CSS or JS file beside the templates, inlined as it is (it is ours, not report data)."""
    from markupsafe import Markup  # jinja2's own dependency

    if name not in ASSETS:
        raise ValueError(f"{name!r} is not one of the page assets {ASSETS}")
    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
