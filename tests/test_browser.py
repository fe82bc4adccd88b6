"""The report and the matrix in a real browser (Debian's chromium, headless): verdict
cards, filters and SVG charts render, and the page asks the network for nothing.

Network: chromium is pointed at a proxy on loopback that only records the first line of
each connection; the page is opened from a file, so any request it made would arrive
there.  Chromium talks to its own services on its own (time, updates, accounts) even
for about:blank with every background switch off, so the hosts an about:blank load
contacts are the baseline, and the page may contact no other host.  Screenshots go to
reports/browser-*.png as artifacts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MACHINES, REPO, CountingProxy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only"]


def browser_chatter(tmp: Path) -> set[str]:
    proxy = CountingProxy()
    try:
        chromium(["--dump-dom", "about:blank"], tmp, proxy)
    finally:
        proxy.close()
    return proxy.hosts()


def leaked(hosts: set[str], tmp: Path) -> set[str]:
    """Hosts beyond chromium's own chatter.  Which of its Google services (accounts, clients2,
    android.clients ...) it calls varies from load to load, so *.google.com is its own too:
    the page is opened from a file and references no host at all."""
    return {h for h in hosts - browser_chatter(tmp) if not h.split(":")[0].endswith(".google.com")}


def chromium(args: list[str], tmp: Path, proxy: CountingProxy) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}",
                           f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>",
                           "--virtual-time-budget=3000", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """A real run (kernel + memory and throughput of torch on the CPU build) and a three-machine matrix."""
    out = tmp_path_factory.mktemp("browser")
    args = [sys.executable, "-m", "pytest", str(REPO / "suites" / "kernel"), "-q", "-p", "no:cacheprovider",
            "-p", "no:html", f"--sysroot={MACHINES / '780m-no-render-group'}"]
    torch_args = [str(REPO / "suites" / "torch"), "--torch-device=cpu",
                  "-k", "kernel or throughput or memory_patterns"]
    have_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    subprocess.run(args + (torch_args if have_torch else []) + [f"--report-dir={out / 'run'}"], cwd=REPO,
                   capture_output=True, text=True)
    reports = []
    for name in ("780m-good", "780m-kernel-6.8", "rx7900xtx"):
        subprocess.run(args[:-1] + [f"--sysroot={MACHINES / name}", f"--report-dir={out / name}"], cwd=REPO,
                       capture_output=True, text=True)
        reports += list((out / name).glob("*.json"))
    from reports.__main__ import main

    assert main(["merge", *map(str, reports), "-o", str(out / "matrix.html"), "--checks"]) == 0
    (page,) = (out / "run").glob("*[0-9].html")
    return {"page": page, "matrix": out / "matrix.html", "torch": Path(str(have_torch))}


def test_report_page_renders_without_network(rendered, tmp_path):
    proxy = CountingProxy()
    try:
        shot = REPO / "reports" / "browser-report.png"
        shot.parent.mkdir(exist_ok=True)
        chromium(["--window-size=1300,2200", f"--screenshot={shot}", rendered["page"].as_uri()], tmp_path, proxy)
        dom = chromium(["--dump-dom", rendered["page"].as_uri() + "#area=kernel&outcome=failed"], tmp_path, proxy)
    finally:
        proxy.close()
    html = dom.stdout
    assert not leaked(proxy.hosts(), tmp_path), proxy.hosts()
    assert shot.exists() and shot.stat().st_size > 10_000
    assert html.count('class="card ') >= 1 and 'class="card broken"' in html
    import json

    doc = json.loads(rendered["page"].with_suffix(".json").read_text())
    failed = sum(1 for r in doc["results"] if r["area"] == "kernel" and r["outcome"] == "failed")
    assert failed and f">{failed} shown<" in html  # the hash preset filtered the table to kernel failures
    assert html.count('style="display: none;"') > 0
    assert '<svg id="memory-chart"' in html and "<rect" in html
    if rendered["torch"].name == "True":
        assert '<svg id="throughput-chart"' in html and "TFLOP/s" in html


def test_matrix_renders_without_network(rendered, tmp_path):
    proxy = CountingProxy()
    try:
        shot = REPO / "reports" / "browser-matrix.png"
        chromium(["--window-size=1300,900", f"--screenshot={shot}", rendered["matrix"].as_uri()], tmp_path, proxy)
        dom = chromium(["--dump-dom", rendered["matrix"].as_uri()], tmp_path, proxy)
    finally:
        proxy.close()
    assert not leaked(proxy.hosts(), tmp_path), proxy.hosts()
    assert dom.stdout.count("<tr><td title=") == 3 and "cell broken" in dom.stdout and "cell works" in dom.stdout
    assert shot.exists()


def test_the_proxy_would_see_a_request(tmp_path):
    """The network check can fail: a page that loads an image from the web is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>')
    proxy = CountingProxy()
    try:
        chromium(["--dump-dom", page.as_uri()], tmp_path, proxy)
    finally:
        proxy.close()
    assert "example.invalid" in proxy.hosts() - browser_chatter(tmp_path)
