"""Parsers: known inputs (incl. real captures) and hypothesis garbage (never raise)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.parsers.cmdline import parse_cmdline_module_params
from fixtures.parsers.keyvalue import parse_keyvalue
from fixtures.parsers.meminfo import parse_meminfo
from fixtures.parsers.modprobe import (
    ModprobeFile,
    effective_options,
    option_value,
    parse_modprobe_conf,
    reading_order,
)
from fixtures.parsers.numbers import parse_int
from fixtures.parsers.properties import gfx_name, override_to_gfx, parse_properties
from fixtures.parsers.rocminfo import parse_rocminfo
from fixtures.release import release_tuple
from fixtures.sizes import GIB, MIB, format_bytes, parse_size
from fixtures.versions import parse_kernel_release, parse_spec, parse_version, satisfies
from tests.helpers import capture_body

GARBAGE = st.text(alphabet=st.characters(codec="utf-8"), max_size=400) | st.sampled_from([
    "", "\n", "\x00\x00", "key", "key value extra", "=\n", "options", "options \\\n", "#", "ttm.=", "Name:",
    "0x", "-5", "99999999999999999999999999", "\x1b[37m", "gfx_target_version 110003 x",
])


@pytest.mark.parametrize("text, version, rc, suffix", [
    ("6.10.0-rc4-amd+", "6.10.0", 4, "-rc4-amd+"),
    ("6.8.0-49-generic", "6.8.0", None, "-49-generic"),
    ("6.11.0-1007-oem", "6.11.0", None, "-1007-oem"),
    ("6.12.48+deb13-amd64", "6.12.48", None, "+deb13-amd64"),
    ("7.1.0", "7.1.0", None, ""),
    ("6.10", "6.10.0", None, ""),
])
def test_kernel_release(text, version, rc, suffix):
    release = parse_kernel_release(text)
    assert release is not None
    assert str(release.version) == version and release.rc == rc and release.suffix == suffix


def test_rc_kernel_counts_as_its_release():
    assert satisfies(parse_kernel_release("6.10.0-rc4-amd+").version, ">=6.10")
    assert not satisfies(parse_kernel_release("6.9.12-arch1").version, ">=6.10")


@pytest.mark.parametrize("text", ["", "linux", "six.ten", "-6.10"])
def test_kernel_release_garbage(text):
    assert parse_kernel_release(text) is None


def test_versions_and_specs():
    assert str(parse_version("6.2.4-120")) == "6.2.4"
    assert release_tuple("7.0") == (7, 0)
    assert satisfies(parse_version("6.2.4"), parse_spec("6.2"))
    assert not satisfies(parse_version("6.3.0"), parse_spec("6.2"))
    with pytest.raises(ValueError, match="not a version specifier"):
        parse_spec(">>6")


@pytest.mark.parametrize("text, expected", [
    ("32G", 32 * GIB), ("32GiB", 32 * GIB), ("512M", 512 * MIB), ("32GB", 32 * 10**9), ("1.5G", int(1.5 * GIB)),
    ("4096", 4096), ("  8g ", 8 * GIB),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "32X", "-1G", "G"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="use e.g. 32G"):
        parse_size(text)


def test_format_bytes():
    assert format_bytes(48 * GIB) == "48.0 GiB" and format_bytes(512) == "512 B" and format_bytes(None) == "unknown"


@pytest.mark.parametrize("version, name", [
    (110003, "gfx1103"), (90012, "gfx90c"), (90010, "gfx90a"), (110501, "gfx1151"), (90402, "gfx942"),
    (100305, "gfx1035"), (110000, "gfx1100"), (0, None), (-3, None), (1234567890, None),
])
def test_gfx_name(version, name):
    assert gfx_name(version) == name


@pytest.mark.parametrize("value, name", [("11.0.0", "gfx1100"), ("10.3.0", "gfx1030"), ("9.0.0", "gfx900"),
                                         ("11.5.1", "gfx1151"), ("11", None), ("a.b.c", None), ("", None)])
def test_override_to_gfx(value, name):
    assert override_to_gfx(value) == name


def test_parse_int():
    assert parse_int("12582912\n") == 12582912 and parse_int("0x15bf") == 0x15BF
    assert parse_int("-1") is None and parse_int("junk") is None and parse_int(None) is None


def test_meminfo():
    info = parse_meminfo("MemTotal:       65306112 kB\nbroken line\nHugePages_Total:       0\n")
    assert info == {"MemTotal": 65306112 * 1024, "HugePages_Total": 0}


def test_keyvalue_uevent():
    assert parse_keyvalue('DRIVER=amdgpu\nPCI_ID=1002:15BF\nNAME="Ubuntu"\nnot a pair\n') == {
        "DRIVER": "amdgpu", "PCI_ID": "1002:15BF", "NAME": "Ubuntu"}


# -- modprobe -----------------------------------------------------------------------

def test_seed_lines_without_options_are_ignored_as_kmod_says():
    lines = parse_modprobe_conf("/etc/modprobe.d/ttm.conf", "ttm pages_limit=12582912\nttm page_pool_size=12582912\n")
    assert [l.diagnostic for l in lines] == ["ignoring bad line starting with 'ttm'"] * 2
    assert all(l.command is None for l in lines)


@pytest.mark.parametrize("capture, pages, pool", [
    ("modprobe-apu-rjmalagon4.txt", "12582912", "12582912"),
    ("modprobe-gfx1151-rocm5853.txt", "31457280", "15728640"),
])
def test_modprobe_captures(capture, pages, pool):
    body = capture_body(capture)
    text = "\n".join(l for l in body.splitlines() if not l.startswith("$") and "GTT memory" not in l)
    f = ModprobeFile("/etc/modprobe.d/x.conf", True, None, parse_modprobe_conf("/etc/modprobe.d/x.conf", text))
    opts = effective_options((f,), "ttm")
    assert option_value(opts["pages_limit"], "pages_limit") == pages
    assert option_value(opts["page_pool_size"], "page_pool_size") == pool


def test_modprobe_continuation_comments_and_last_wins():
    text = "# comment\noptions ttm \\\n  pages_limit=1\n\noptions ttm pages_limit=2\ninclude /etc/x\nblacklist\n"
    lines = parse_modprobe_conf("/etc/modprobe.d/a.conf", text)
    assert lines[0].lineno == 2 and lines[0].params == (("pages_limit", "1"),)
    assert "deprecated" in lines[2].diagnostic and "no module named" in lines[3].diagnostic
    f = ModprobeFile("/etc/modprobe.d/a.conf", True, None, lines)
    assert option_value(effective_options((f,), "ttm")["pages_limit"], "pages_limit") == "2"


def test_modprobe_reading_order():
    order = reading_order({"/etc/modprobe.d": ["b.conf", "ttm"], "/lib/modprobe.d": ["a.conf", "b.conf"]})
    assert [(p, r) for p, r, _ in order if r] == [("/lib/modprobe.d/a.conf", True), ("/etc/modprobe.d/b.conf", True)]
    why = {p: w for p, r, w in order if not r}
    assert "only files ending in .conf" in why["/etc/modprobe.d/ttm"]
    assert "hidden by /etc/modprobe.d/b.conf" in why["/lib/modprobe.d/b.conf"]


def test_unread_files_do_not_count():
    f = ModprobeFile("/etc/modprobe.d/ttm", False, "not .conf",
                     parse_modprobe_conf("/etc/modprobe.d/ttm", "options ttm pages_limit=5\n"))
    assert effective_options((f,), "ttm") == {}


# -- cmdline, properties, rocminfo ------------------------------------------------------

def test_cmdline_capture():
    body = capture_body("sysfs-gfx1151-nixamdai42.txt").splitlines()[0]
    params = parse_cmdline_module_params(body.split(":", 1)[1])
    assert params["ttm"] == {"pages_limit": "25165824", "page_pool_size": "25165824"}
    dmesg = next(l for l in capture_body("dmesg-gfx1151-rocm5595.txt").splitlines() if "Command line:" in l)
    assert parse_cmdline_module_params(dmesg.split("Command line:", 1)[1])["amdgpu"] == {"gtt_size": "122880"}


def test_properties_old_kfd_capture():
    body = capture_body("sysfs-gfx902-fiji-amdgpu66.txt")
    props = parse_properties(body)
    assert props["simd_count"] == 44 and props["device_id"] == 5597  # first value of a repeated key wins
    assert "gfx_target_version" not in props and "lds_Wsize_in_kb" in props


@pytest.mark.parametrize("capture, gpus", [
    ("rocminfo-gfx1035-rocm3039.txt", ["gfx1035"]),
    ("rocminfo-gfx1103-ollama4099.txt", ["gfx1103"]),
    ("rocminfo-gfx1103-rocm6273.txt", ["gfx1103"]),
    ("rocminfo-gfx1103-rocm6386.txt", ["gfx1103"]),
    ("rocminfo-gfx1151-as-gfx1150-tahircengiz.txt", ["gfx1150"]),
    ("rocminfo-gfx1151-rocm5817.txt", ["gfx1151"]),
    ("rocminfo-gfx90c-rocm3388.txt", ["gfx90c"]),
    ("docker-gfx1100-ollama6685.txt", []),
])
def test_rocminfo_captures(capture, gpus):
    agents = parse_rocminfo(capture_body(capture))
    assert [a.name for a in agents if a.is_gpu] == gpus


def test_rocminfo_npu_agent_is_not_a_gpu():
    agents = parse_rocminfo(capture_body("rocminfo-gfx1103-rocm6386.txt"))
    npu = [a for a in agents if a.device_type == "DSP"]
    assert npu and not npu[0].is_gpu and npu[0].marketing_name == "RyzenAI-npu1"


def test_rocminfo_ansi_and_isas():
    text = "\x1b[37m  Name:                    gfx90c\x1b[0m\n  Device Type: GPU\n      Name: amdgcn-amd-amdhsa--gfx90c:xnack-\n"
    (agent,) = parse_rocminfo(text)
    assert agent.name == "gfx90c" and agent.isas == ("amdgcn-amd-amdhsa--gfx90c:xnack-",)


# -- garbage: no parser ever raises -------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(text=GARBAGE)
def test_no_parser_raises_on_garbage(text):
    parse_kernel_release(text)
    parse_version(text)
    parse_meminfo(text)
    parse_keyvalue(text)
    parse_cmdline_module_params(text)
    parse_properties(text)
    parse_rocminfo(text)
    parse_int(text)
    override_to_gfx(text)
    for line in parse_modprobe_conf("/etc/modprobe.d/x.conf", text):
        assert line.command is None or line.module


@settings(max_examples=200, deadline=None)
@given(value=st.integers(min_value=-(10**12), max_value=10**12))
def test_gfx_name_total(value):
    name = gfx_name(value)
    assert name is None or name.startswith("gfx")
