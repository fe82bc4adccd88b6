"""A simulated ollama: a real HTTP server on loopback speaking the documented API
(/api/version, /api/tags, /api/ps, /api/show, /api/generate), with scenarios:

  gtt       a GTT-aware server: the whole model on the GPU
  vram-only the APU bug (ollama#5471): only as much as the VRAM carve-out on the GPU
  error     generate answers HTTP 500 with an error
  junk      answers that are not JSON
  timeout   generate never answers in time

Run as a program (`python -m tests.ollama_sim serve`, or through tests/fake_bin/ollama)
it serves on $OLLAMA_HOST like `ollama serve`, logging like the real server.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "tinyllama:1.1b"
SIZE = 1_300_000_000
CARVEOUT = 512 * 1024**2
LAYERS = 23


class State:
    def __init__(self, scenario: str, log=None) -> None:
        self.scenario = scenario
        self.loaded = False
        self.log = log or sys.stderr

    def say(self, msg: str) -> None:
        print(f'time=2026-11-24T00:00:00.000Z level=INFO source=sim.go:1 msg="{msg}"', file=self.log, flush=True)


def handler_for(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _send(self, code: int, body: object) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                return json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return {}

        def do_GET(self) -> None:
            if state.scenario == "junk" and self.path != "/api/version":
                return self._send(200, "<html>proxy login</html>")
            if self.path == "/api/version":
                return self._send(200, {"version": "0.6.6"})
            if self.path == "/api/tags":
                return self._send(200, {"models": [{"name": MODEL, "model": MODEL, "size": SIZE}]})
            if self.path == "/api/ps":
                if not state.loaded:
                    return self._send(200, {"models": []})
                vram = CARVEOUT if state.scenario == "vram-only" else SIZE
                return self._send(200, {"models": [{"name": MODEL, "model": MODEL, "size": SIZE, "size_vram": vram}]})
            self._send(404, {"error": f"unknown path {self.path}"})

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/api/show":
                return self._send(200, {"details": {"parameter_size": "1.1B", "quantization_level": "Q8_0"}})
            if self.path != "/api/generate":
                return self._send(404, {"error": "unknown path"})
            if body.get("keep_alive") == 0 and "prompt" not in body:
                state.loaded = False
                return self._send(200, {"model": body.get("model"), "done": True, "done_reason": "unload"})
            if state.scenario == "error":
                return self._send(500, {"error": "llama runner process has terminated: exit status 2"})
            if state.scenario == "timeout":
                time.sleep(5)
            if state.scenario == "junk":
                return self._send(200, "not json at all")
            state.loaded = True
            offloaded = LAYERS if state.scenario != "vram-only" else 3
            state.say("inference compute")
            print(f'time=2026-11-24T00:00:01.000Z level=INFO source=ggml.go:498 msg="offloaded {offloaded}/{LAYERS} '
                  'layers to GPU"', file=state.log, flush=True)
            self._send(200, {"model": MODEL, "response": "GTT is system memory the GPU can map.", "done": True,
                             "eval_count": 40, "eval_duration": 2_000_000_000, "total_duration": 2_500_000_000})

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A client that gave up (the suite's client timed out, the test ended) closes its socket:
    the simulator drops the reply instead of printing a traceback into whichever test's
    captured stderr is current (tests/test_options.py asserts there is no 'Traceback')."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class SimulatedOllama:
    """The simulated server on a free loopback port, in a thread (for in-process tests)."""

    def __init__(self, scenario: str, port: int = 0) -> None:
        self.log = io.StringIO()  # what the server would print; kept off the test output
        self.state = State(scenario, self.log)
        self.server = QuietServer(("127.0.0.1", port), handler_for(self.state))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "SimulatedOllama":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve() -> int:
    """Act as `ollama serve`: bind $OLLAMA_HOST, log to stderr, stop on SIGTERM."""
    host, _, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rpartition(":")
    state = State(os.environ.get("OLLAMA_SIM_SCENARIO", "gtt"))
    pidfile = os.environ.get("OLLAMA_SIM_PIDFILE")
    if pidfile:
        with open(pidfile, "w") as fh:
            fh.write(str(os.getpid()))
    server = QuietServer((host or "127.0.0.1", int(port)), handler_for(state))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    state.say(f"Listening on {host}:{port} (version 0.6.6)")
    state.say(f"HSA_OVERRIDE_GFX_VERSION={os.environ.get('HSA_OVERRIDE_GFX_VERSION', '')}")
    state.say(f"OLLAMA_IGPU_ENABLE={os.environ.get('OLLAMA_IGPU_ENABLE', '')}")
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve())
    print("usage: ollama serve", file=sys.stderr)
    sys.exit(2)
