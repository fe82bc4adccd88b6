"""A small client of ollama's documented HTTP API (requests), whose every failure is an
`OllamaError` that says which URL answered what, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fixtures.parsers.ollama import LoadedModel, parse_api_ps

DEFAULT_URL = "http://127.0.0.1:11434"


class OllamaError(Exception):
    """The server could not be reached, answered an error, or answered junk."""


def url_from_env(value: str | None) -> str:
    """OLLAMA_HOST as ollama reads it: `host:port`, `:port`, or a URL."""
    if not value:
        return DEFAULT_URL
    value = value.strip().rstrip("/")
    if "://" in value:
        return value
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "11434")
    return f"http://{host or '127.0.0.1'}:{port or '11434'}"


@dataclass
class OllamaClient:
    url: str
    timeout: float = 30.0

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None,
                 timeout: float | None = None) -> Any:
        import requests

        target = f"{self.url}{path}"
        try:
            resp = requests.request(method, target, json=payload, timeout=timeout or self.timeout)
        except requests.Timeout:
            raise OllamaError(f"{target} did not answer within {timeout or self.timeout:.0f} s") from None
        except requests.RequestException as exc:
            raise OllamaError(f"{target} could not be reached: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            detail = resp.text[:200].strip()
            try:
                detail = resp.json().get("error", detail)
            except ValueError:
                pass
            raise OllamaError(f"{target} answered HTTP {resp.status_code}: {detail}")
        try:
            return resp.json()
        except ValueError:
            raise OllamaError(f"{target} answered something that is not JSON: {resp.text[:80]!r}") from None

    def _object(self, data: Any, what: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise OllamaError(f"{self.url}{what} answered {type(data).__name__}, not a JSON object")
        return data

    def version(self) -> str:
        data = self._object(self._request("GET", "/api/version"), "/api/version")
        if not isinstance(data.get("version"), str):
            raise OllamaError(f"{self.url}/api/version has no version: {str(data)[:80]}")
        return data["version"]

    def tags(self) -> list[dict[str, Any]]:
        data = self._object(self._request("GET", "/api/tags"), "/api/tags")
        models = data.get("models", [])
        return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []

    def ps(self) -> tuple[LoadedModel, ...]:
        import json

        data = self._request("GET", "/api/ps")
        parsed = parse_api_ps(json.dumps(data))
        if parsed is None:
            raise OllamaError(f"{self.url}/api/ps answered no model list: {str(data)[:80]}")
        return parsed

    def show(self, model: str) -> dict[str, Any]:
        return self._object(self._request("POST", "/api/show", {"model": model}), "/api/show")

    def generate(self, model: str, prompt: str, num_predict: int = 32, keep_alive: str | int = "5m",
                 timeout: float | None = None) -> dict[str, Any]:
        payload = {"model": model, "prompt": prompt, "stream": False, "keep_alive": keep_alive,
                   "options": {"num_predict": num_predict, "temperature": 0, "seed": 0}}
        return self._object(self._request("POST", "/api/generate", payload, timeout), "/api/generate")

    def unload(self, model: str) -> None:
        """keep_alive 0 with no prompt unloads the model (documented in ollama's API)."""
        self._request("POST", "/api/generate", {"model": model, "keep_alive": 0})
