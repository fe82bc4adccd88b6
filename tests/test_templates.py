"""Every template in reports/templates renders from a recorded run: the page leads with what
failed (sentence, found, remedy) right under the cards, shows each skip reason once with
its count, the fix plan, the knowledge horizon and caveats when the report has them, names
every check by its sentence, and stays one self-contained file with everything escaped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

from reports.document import check_name, load, skip_groups
from reports.matrix import merge, to_html
from reports.page import render_page
from reports.render import ASSETS, TEMPLATES
from tests.helpers import MACHINES, REPO

def esc(text: str) -> str:
    return str(escape(text))


PAGES = {"page.html.j2", "matrix.html.j2"}  # the rest (_*.j2) are macros they import


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> dict:
    """The kernel, docker and ollama suites on the recorded 780M whose user is not in the render group."""
    out = tmp_path_factory.mktemp("recorded")
    subprocess.run([sys.executable, "-m", "pytest", "suites/kernel", "suites/docker", "suites/ollama",
                    f"--sysroot={MACHINES / '780m-no-render-group'}", f"--report-dir={out}", "-q",
                    "-p", "no:cacheprovider", "-p", "no:html"], cwd=REPO, capture_output=True, text=True)
    (path,) = out.glob("*.json")
    return load(path)


def with_extras(doc: dict) -> dict:
    """The recorded run plus what other writers add: a fix plan, the horizon, a caveat, markup."""
    doc = json.loads(json.dumps(doc))
    failing = [r for r in doc["results"] if r["outcome"] == "failed"]
    doc["fix_plan"] = [{"group": "groups", "checks": [check_name(failing[0])], "commands": ["sudo usermod -aG render $USER"],
                        "root": True, "reboot": False, "restart": "", "edits": [], "note": "log out and in again",
                        "source": "https://example.org/render-group"},
                       {"group": "reboot", "checks": [], "commands": ["sudo reboot"], "root": True, "reboot": True,
                        "restart": "", "edits": ["/etc/modprobe.d/ttm.conf"], "note": "", "source": ""}]
    doc["fix_script"] = "apu-gfx1103-x-fix.sh"
    doc["horizon"] = [{"component": "kernel", "checked_against": "6.18", "released": "2025-11-30",
                       "checked_on": "2026-12-01", "source": "https://kernel.org", "installed": "6.19.1", "newer": True}]
    failing[0]["verdict"]["caveats"] = ["kernel 6.19.1 is newer than 6.18: this verdict may not hold"]
    failing[0]["verdict"]["found"] += " <script>alert(1)</script>"
    return doc


def test_every_template_is_rendered_here():
    templates = {p.name for p in TEMPLATES.glob("*.j2")}
    assert PAGES <= templates and all(t.startswith("_") for t in templates - PAGES)
    assert all((TEMPLATES / a).is_file() for a in ASSETS)


def test_page_leads_with_what_failed(recorded):
    doc = with_extras(recorded)
    page = render_page(doc)
    failed = [r for r in doc["results"] if r["outcome"] == "failed"]
    assert len(failed) == 3
    order = [page.index(marker) for marker in ('id="verdicts"', 'id="failures"', 'id="fix-plan"', 'id="skips"',
                                               'id="machine"', 'id="horizon"', 'id="checks"')]
    assert order == sorted(order)
    failures = page[page.index('id="failures"'):page.index('id="fix-plan"')]
    for rec in failed:
        v = rec["verdict"]
        for text in (v["check"], v["found"], v["remedy"]):
            assert esc(text) in failures
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "kernel 6.19.1 is newer than 6.18" in failures  # caveats under their check
    plan = page[page.index('id="fix-plan"'):page.index('id="skips"')]
    assert "sudo usermod -aG render $USER" in plan and "apu-gfx1103-x-fix.sh" in plan and "reboot" in plan


def test_each_skip_reason_once_with_its_count(recorded):
    page = render_page(recorded)
    skips = page[page.index('id="skips"'):page.index('id="machine"')]
    groups = skip_groups(recorded["results"])
    assert groups and max(g["count"] for g in groups) > 1
    for group in groups:
        assert skips.count(esc(group["reason"])) == 1
        assert f'<td class="n">{group["count"]}</td>' in page


def test_every_check_has_its_sentence(recorded):
    page = render_page(recorded)
    for rec in recorded["results"]:
        assert esc(check_name(rec)) in page, rec["nodeid"]
        assert not check_name(rec).startswith("test_"), rec["nodeid"]  # a docstring or a verdict named it


def test_pages_are_self_contained(recorded):
    css = (TEMPLATES / "style.css").read_text()
    js = (TEMPLATES / "page.js").read_text()
    page, matrix = render_page(with_extras(recorded)), to_html(merge([recorded]), with_checks=True)
    for text in (page, matrix):
        assert css in text
        for external in ("<link ", 'src="', "url(", "@import"):
            assert external not in text
    assert js in page
    assert 'id="matrix"' in matrix and 'id="check-matrix"' in matrix and "Kernel</th>" in matrix


def test_an_old_report_without_the_new_fields_renders(recorded):
    doc = json.loads(json.dumps(recorded))
    for rec in doc["results"]:
        rec.pop("check", None)
        rec.pop("cpu_side", None)
    for key in ("fix_plan", "fix_script", "horizon"):
        doc.pop(key, None)
    page = render_page(doc)
    assert 'id="fix-plan"' not in page and 'id="horizon"' not in page and 'id="failures"' in page
