"""Redaction: what a shared report must not carry.

Two kinds of things go.  Identity: host and user names, MAC and IPv4 addresses (loopback
kept), home paths, GPU serials and UUIDs.  Secrets: URL userinfo (`http://alice:pw@…`,
as `--ollama-url` or `OLLAMA_HOST`/`HF_ENDPOINT` may hold it), `Authorization`-like
headers, `NAME=value` / `"NAME": "value"` where the name is a secret's (`HF_TOKEN`,
`*_TOKEN`, `*_KEY`, `*_PASSWORD`, `*_SECRET`), `?token=` in URLs, tokens of well-known
shapes, and the values of this process's secret-named environment variables wherever
they appear (captured output, a failure's locals).

The same text passes through JSON and HTML escaping on its way into pytest-html's log
(its data is JSON inside an HTML attribute), so the patterns accept escaped quotes
(`\\"`, `&#34;`, `&amp;#x27;`) around names and values, and each literal secret is also looked
for in its escaped forms.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

REDACTED = "<redacted>"
_MAC = re.compile(r"\b(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}\b")
_IPV4 = re.compile(r"(?<![\w.])(?!127\.|0\.0\.0\.0)(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])")
_HOME = re.compile(r"(/home/|/Users/)[^/\s\"']+")
_GPU_ID = re.compile(r"\bGPU-[0-9a-fA-F]{8,}\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")

# Names whose values are secrets: environment-style (upper case) and HTTP headers.
ENV_SECRET_NAME = r"[A-Z][A-Z0-9_]*_(?:TOKEN|KEY|PASSWORD|PASSWD|SECRET)S?|TOKEN|PASSWORD|PASSWD|SECRET"
HEADER_NAME = r"(?i:(?:proxy-)?authorization|x-api-key|api-key|x-auth-token|private-token|set-cookie|cookie)"
_QUOTE = r"(?:[\"'`]|\\+[\"']|&(?:amp;)*(?:#34|#39|quot|#x27|apos);)"
_SEP = rf"(?:[ \t]|{_QUOTE})*[:=](?:[ \t]|{_QUOTE})*"
_NAMED = re.compile(rf"(?<![\w-])({HEADER_NAME}|{ENV_SECRET_NAME})({_SEP})"
                    r"((?i:bearer|basic|token|digest)[ \t]+)?([^\s\"'`<>,;&\\]+)")
_BEARER = re.compile(r"(?i)\b(bearer[ \t]+)[A-Za-z0-9._~+/=-]{8,}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"'`<>?#\\]+@")
_QUERY = re.compile(r"(?i)([?&](?:amp;)?(?:access_token|api_?key|token|password|passwd|secret|signature)=)[^&\s\"'`<>#\\]+")
# Token formats with a documented prefix: Hugging Face (https://huggingface.co/docs/hub/security-tokens),
# GitHub (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/),
# GitLab (https://docs.gitlab.com/ee/security/tokens/#token-prefixes).
_TOKEN = re.compile(r"\b(?:hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
                    r"|glpat-[A-Za-z0-9_-]{20,})\b")
_SECRET_KEY = re.compile(rf"(?i:serial|uuid|mac_?addr)|^(?:{ENV_SECRET_NAME})$|^{HEADER_NAME}$"
                         r"|^(?:token|password|passwd|secret|api_?key|access_token)$")
_ENV_SECRET = re.compile(r"(?i)(?:^|_)(?:token|key|password|passwd|secret)s?$")
_URL_PASSWORD = re.compile(r"://[^/\s@:]*:([^/\s@]+)@")
MIN_LITERAL = 6  # shorter values (`1`, `yes`) would blank out ordinary text


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Every identity and secret above out of one string."""
    for secret in secrets:
        if len(secret) >= 3 and secret in text:
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _NAMED.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _QUERY.sub(rf"\1{REDACTED}", text)
    text = _TOKEN.sub("<token>", text)
    text = _MAC.sub("<mac>", text)
    text = _IPV4.sub("<ip>", text)
    text = _HOME.sub(r"\1<user>", text)
    text = _GPU_ID.sub("GPU-<serial>", text)
    return _UUID.sub("<uuid>", text)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Apply redact_text to every string of a JSON value; string values of secret-named and
    serial-like keys go whole."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(v, str) and _SECRET_KEY.search(str(k)) else redact(v, secrets))
                for k, v in value.items()}
    return value


def _escaped_forms(value: str) -> set[str]:
    """The value as it reads after JSON and HTML escaping, in the orders pytest-html applies them."""
    def as_json(text: str) -> str:
        return json.dumps(text)[1:-1]

    forms = {value, html.escape(value), as_json(value), html.escape(as_json(value)),
             html.escape(as_json(html.escape(value)))}
    return {f for f in forms if f}


def secret_values(environ: Mapping[str, str] | None = None, args: Iterable[str] = ()) -> tuple[str, ...]:
    """Literal secrets of this run: the values of secret-named environment variables and the
    passwords in URLs given on the command line or in the environment, in escaped forms too."""
    environ = os.environ if environ is None else environ
    found = {v for k, v in environ.items() if _ENV_SECRET.search(k) and len(v) >= MIN_LITERAL}
    for text in (*args, *environ.values()):
        found.update(m for m in _URL_PASSWORD.findall(text) if len(m) >= 4)
    forms = {form for value in found for form in _escaped_forms(value)}
    return tuple(sorted(forms, key=len, reverse=True))  # longest first: a secret inside another goes whole


def redact_html_file(path: Path, secrets: Iterable[str]) -> None:
    """Redact a written page in place (pytest-html's log), leaving its <script> and <style> alone.
    Written back atomically; a page that cannot be read or written is left as it is."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    secrets = tuple(secrets)
    parts = re.split(r"(<script\b.*?</script>|<style\b.*?</style>)", text, flags=re.DOTALL | re.IGNORECASE)
    clean = "".join(part if n % 2 else redact_text(part, secrets) for n, part in enumerate(parts))
    if clean != text:
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(clean, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
