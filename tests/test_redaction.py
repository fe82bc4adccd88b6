"""No secret in a redacted report: each kind is planted — URL userinfo (an option, a verdict,
the environment table), Authorization-like headers (a failure's locals), tokens in
environment variables (captured output, --showlocals), a known token shape — and the
JSON report, its page and pytest-html's log are searched for them.  The same run with
--no-redact must show them, or the planting proved nothing."""

from __future__ import annotations

import pytest

from reports.redaction import redact_text, secret_values
from tests.helpers import PLUGINS_CONFTEST, REPO

ENV = {
    "HF_TOKEN": "hf_PlantedHuggingFaceToken0123456789",
    "DB_PASSWORD": "planted-db-password",
    "MY_SERVICE_SECRET": "planted-service-secret",
    "ROCM_API_KEY": "planted-api-key-value",
    "CI_PROJECT_URL": "https://ci-user:planted-ci-url-pw@gitlab.example/group/project",  # pytest-metadata shows it
}
PLANTED = [*ENV.values(), "planted-ci-url-pw", "planted-option-pw", "planted-bearer-4242", "planted-xapikey-4242",
           "planted-verdict-pw", "planted-cookie-4242"]
PLANTED.remove(ENV["CI_PROJECT_URL"])  # its password part is what must go; the rest of the URL may stay

CHECKS = """
import os
from fixtures.verdict import failed

def test_prints_its_environment():
    print(dict(os.environ))

def test_fails_with_headers_in_its_locals():
    headers = {"Authorization": "Bearer planted-bearer-4242", "X-Api-Key": "planted-xapikey-4242",
               "Cookie": "session=planted-cookie-4242"}
    token = os.environ["HF_TOKEN"]
    assert headers is None, f"request with {headers} and {token} failed"

def test_verdict_names_a_server(check):
    check(failed("the server answers", "an answer", "no answer from http://bob:planted-verdict-pw@127.0.0.1:9/api",
                 remedy="start it"))
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    for key, value in {**ENV, "PYTHONPATH": str(REPO)}.items():
        monkeypatch.setenv(key, value)
    pytester.makeconftest(PLUGINS_CONFTEST)
    pytester.makepyfile(test_secrets=CHECKS)

    def go(*args: str) -> dict[str, str]:
        out = pytester.path / f"r{len(args)}"
        pytester.runpytest_subprocess("--ollama-url=http://alice:planted-option-pw@127.0.0.1:9", "--showlocals",
                                      f"--report-dir={out}", "-p", "no:cacheprovider", *args)
        files = {p.name.split("-")[-1]: p.read_text() for p in out.iterdir()}
        assert {"log.html", "fix.sh"} < set(files) and len(files) == 4, sorted(files)
        return files

    return go


def test_no_planted_secret_in_any_report_file(run):
    plain = run("--no-redact")
    shown = {s for s in PLANTED if any(s in text for text in plain.values())}
    assert shown == set(PLANTED), f"not planted where it could leak: {set(PLANTED) - shown}"
    for name, text in run().items():
        leaked = [s for s in PLANTED if s in text]
        assert not leaked, f"{name} leaks {leaked}"
        if name != "fix.sh":  # the plan carries no planted value to redact, only the checks' commands
            assert "<redacted>" in text or "&lt;redacted&gt;" in text


@pytest.mark.parametrize("text, expected", [
    ("curl -H 'Authorization: Bearer abc.def-123' http://x", "curl -H 'Authorization: Bearer <redacted>' http://x"),
    ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic <redacted>"}'),
    ("OLLAMA_HOST=http://u:p4ss@10.0.0.2:11434", "OLLAMA_HOST=http://<redacted>@<ip>:11434"),
    ("Environment=HF_TOKEN=hf_abc", "Environment=HF_TOKEN=<redacted>"),
    ("&amp;#x27;GITHUB_TOKEN&amp;#x27;: &amp;#x27;x1y2&amp;#x27;", "&amp;#x27;GITHUB_TOKEN&amp;#x27;: &amp;#x27;<redacted>&amp;#x27;"),
    ("https://hub/api?token=abc&x=1", "https://hub/api?token=<redacted>&x=1"),
    ("pasted ghp_0123456789abcdefghijklmnopqrstuvwxyzAB here", "pasted <token> here"),
    ("HSA_OVERRIDE_GFX_VERSION=11.0.0 KEYBOARD=us monkey=3", "HSA_OVERRIDE_GFX_VERSION=11.0.0 KEYBOARD=us monkey=3"),
])
def test_secret_patterns(text, expected):
    assert redact_text(text) == expected


def test_secret_values_from_environment_and_urls():
    found = secret_values({"HF_TOKEN": "hf_value<&>", "SHORT_KEY": "1", "HOME": "/root"},
                          ["--ollama-url=http://a:longpass@h"])
    assert {"hf_value<&>", "hf_value&lt;&amp;&gt;", "longpass"} <= set(found) and "1" not in found
