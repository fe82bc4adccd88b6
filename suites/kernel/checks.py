"""Kernel-side checks as pure functions: SystemProfile (+ target, options) -> Verdict.

Kept apart from the test module so the self-tests can run every check against every
recorded machine without pytest in between, and so the rule each check applies can be
read in one place.  Facts come from fixtures/knowledge/platform.toml (sourced there).
"""

from __future__ import annotations

import difflib
import re

from fixtures import fixes
from fixtures.knowledge.tables import archs, platform_fact
from fixtures.native import NativeKernels, system_rocm
from fixtures.parsers.modprobe import effective_options, option_value
from fixtures.parsers.numbers import parse_int
from fixtures.parsers.properties import override_to_gfx
from fixtures.profile import DeviceNode, SystemProfile
from fixtures.sizes import GIB, MIB, format_bytes
from fixtures.target import Target, target_card
from fixtures.unknown import Unknown, known
from fixtures.verdict import FixStep, Verdict, failed, not_applicable, passed
from fixtures.versions import parse_version, satisfies

# Our policy, not a sourced fact: GTT is a limit, not a reservation, but a limit within
# this much of all RAM lets one big model push the desktop into the OOM killer.
HOST_HEADROOM = 4 * GIB
TTM_PARAMS = ("pages_limit", "page_pool_size", "dma32_pages_limit")
REBOOT = "rebuild the initramfs (Debian/Ubuntu: sudo update-initramfs -u; Fedora/Arch: sudo dracut -f " \
         "or sudo mkinitcpio -P) and reboot"
GTTSIZE_SOURCE = "fixtures/knowledge/platform.toml [gttsize]"


def _ttm_module(profile: SystemProfile) -> str:
    return profile.ttm.name if profile.ttm.loaded else "ttm"


def _pages_in(text: str) -> int | None:
    """The pages_limit a (possibly ignored) line meant: `ttm pages_limit=12582912` -> 12582912."""
    m = re.search(r"\bpages_limit=(\d+)", text)
    return int(m.group(1)) if m else None


def _gttsize_sources(profile: SystemProfile) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
    """Where amdgpu.gttsize is set: modprobe.d lines (file, line number) and kernel command-line words."""
    lines = tuple((line.file, line.lineno) for f in profile.modprobe for line in f.lines
                  if line.module == "amdgpu" and any(k == "gttsize" for k, _ in line.params))
    value = profile.kernel.cmdline_params.get("amdgpu", {}).get("gttsize")
    return lines, ((f"amdgpu.gttsize={value}",) if value is not None else ())


def _ttm_instead_of_gttsize(profile: SystemProfile, pages: int | None) -> tuple[FixStep, ...]:
    """Drop amdgpu.gttsize (command line, modprobe.d) and size GTT through TTM instead."""
    lines, words = _gttsize_sources(profile)
    steps = (fixes.cmdline_remove_step(profile, words, source=GTTSIZE_SOURCE),) if words else ()
    if not lines and not words:
        steps = (FixStep("manual", source=GTTSIZE_SOURCE,
                         note="amdgpu.gttsize is set, but not in /etc/modprobe.d or on the kernel command line the "
                              "suite read: find it (grep -rn gttsize /etc/modprobe.d /usr/lib/modprobe.d "
                              "/etc/default/grub /etc/kernel) and remove it"),)
    if pages:
        steps += fixes.ttm_fix(profile, _ttm_module(profile), pages, comment_out=lines)
    return steps


def generation(gfx: str) -> str:
    """gfx1103 -> gfx11, gfx90c -> gfx9: the family an HSA override must stay within."""
    return gfx[:-2]


def _kernel_min() -> str:
    return str(platform_fact("kfd_gtt_on_apu", "min_kernel"))


def _kernel_text(profile: SystemProfile) -> str:
    return str(profile.kernel.release)


# -- driver ----------------------------------------------------------------------------

def amdgpu_driver(profile: SystemProfile) -> Verdict:
    name = "amdgpu driver loaded and driving a card"
    cards = profile.amd_cards
    if profile.amdgpu.loaded and cards:
        return passed(name, "module amdgpu loaded, a DRM card with driver amdgpu",
                      f"amdgpu drives {', '.join(c.name for c in cards)}")
    amd_pci = [g for g in profile.pci_gpus if g.is_amd]
    found = ("module amdgpu is not loaded" if not profile.amdgpu.loaded
             else "module amdgpu is loaded but drives no DRM card")
    if amd_pci:
        found += "; AMD display device(s): " + ", ".join(
            f"{g.slot} 1002:{g.device:04x} driver {g.driver or 'none'}" for g in amd_pci)
    blockers = [w for w in ("nomodeset",) if w in profile.kernel.cmdline_words]
    modeset = profile.kernel.cmdline_params.get("amdgpu", {}).get("modeset")
    if modeset == "0":
        blockers.append("amdgpu.modeset=0")
    remedy = "load it (sudo modprobe amdgpu) and read `sudo dmesg | grep -i amdgpu` for why it did not bind"
    fix: tuple[FixStep, ...] = (FixStep("manual", ("sudo modprobe amdgpu",), note="if it still drives no card, "
                                        "read `sudo dmesg | grep -i amdgpu` for why it did not bind"),)
    if blockers:
        remedy = f"remove {' and '.join(blockers)} from the kernel command line, then reboot"
        fix = (fixes.cmdline_remove_step(profile, tuple(blockers),
                                         source="https://docs.kernel.org/admin-guide/kernel-parameters.html"),)
    return failed(name, "module amdgpu loaded, a DRM card with driver amdgpu", found,
                  why="ROCm reaches the GPU only through amdgpu and its KFD", remedy=remedy, fix=fix)


# -- kernel version --------------------------------------------------------------------

def kernel_supports_gtt(profile: SystemProfile, target: Target) -> Verdict:
    name = "kernel lets KFD use GTT on an APU"
    if target.apu is not True:
        return not_applicable(name, f"{target.gfx or 'the GPU'} is not an APU: compute uses its own VRAM")
    minimum = _kernel_min()
    expected = f"kernel >= {minimum}"
    commit = platform_fact("kfd_gtt_on_apu", "commit")
    link = f"https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id={commit}"
    why = (f"before {minimum} ROCm (KFD) sizes an APU's GPU memory by the firmware carve-out, often 512 MiB; "
           f"from {minimum} it allocates from GTT, up to TTM's pages_limit (details and sources: fixtures/knowledge/platform.toml)")
    release = profile.kernel.release
    if isinstance(release, Unknown):
        return failed(name, expected, str(release), why=why, link=link,
                      remedy="make /proc/sys/kernel/osrelease readable (or record it) so the kernel can be judged")
    if satisfies(release.version, f">={minimum}"):
        return passed(name, expected, f"kernel {release.text}", link=link)
    distro = str(profile.distro) if known(profile.distro) else ""
    if "Ubuntu 24.04" in distro:
        fix = FixStep("packages", ("sudo apt-get update", "sudo apt-get install -y linux-generic-hwe-24.04"),
                      reboot=True, note=f"the HWE kernel of Ubuntu 24.04 is >= {minimum}", source=link)
    else:
        fix = FixStep("packages", root=True, reboot=True, source=link,
                      note=f"install your distribution's kernel >= {minimum}, then reboot")
    return failed(name, expected, f"kernel {release.text}", why=why, link=link, fix=(fix,),
                  remedy=f"install a kernel >= {minimum} (Ubuntu 24.04: sudo apt install "
                         "linux-generic-hwe-24.04, or linux-oem-24.04), then reboot")


# -- TTM / GTT -------------------------------------------------------------------------

def expected_gtt(profile: SystemProfile) -> tuple[int | None, str]:
    """The GTT size amdgpu should report, from the live parameters, and how we got it."""
    gttsize = parse_int(profile.amdgpu.params.get("gttsize", ""))
    raw = profile.amdgpu.params.get("gttsize", "").strip()
    if raw and raw != "-1" and gttsize:
        return gttsize * MIB, f"amdgpu.gttsize={gttsize} MiB"
    pages = profile.ttm.int_param("pages_limit")
    if pages:
        return pages * profile.page_size, f"{profile.ttm.name}.pages_limit={pages} x {profile.page_size} B"
    return None, f"{profile.ttm.name}.pages_limit unreadable"


def ttm_matches_gtt(profile: SystemProfile, target: Target) -> Verdict:
    name = "TTM pages_limit agrees with the GTT amdgpu reports"
    card = target_card(profile, target)
    if card is None:
        return not_applicable(name, "no amdgpu card")
    since = str(platform_fact("ttm", "gtt_follows_pages_limit_since"))
    release = profile.kernel.release
    if known(release) and not satisfies(release.version, f">={since}"):  # type: ignore[union-attr]
        return not_applicable(name, f"kernel {release} sizes GTT without TTM's pages_limit (that began in {since})")
    if not profile.ttm.loaded:
        return failed(name, "ttm (or amdttm) module loaded with readable parameters",
                      "neither /sys/module/ttm nor /sys/module/amdttm exists",
                      remedy="load amdgpu (it loads ttm) and re-run")
    want, how = expected_gtt(profile)
    measurements = {"ttm_pages_limit": profile.ttm.int_param("pages_limit"),
                    "ttm_page_pool_size": profile.ttm.int_param("page_pool_size"),
                    "gtt_total_bytes": card.gtt_total if known(card.gtt_total) else None}
    if want is None:
        return failed(name, "readable TTM limits", how, measurements=measurements,
                      remedy=f"check that /sys/module/{profile.ttm.name}/parameters/pages_limit is readable")
    if not known(card.gtt_total):
        return failed(name, f"GTT of {format_bytes(want)} ({how})", str(card.gtt_total), measurements=measurements,
                      remedy="a recent amdgpu exposes mem_info_gtt_total; update the kernel")
    gtt = int(card.gtt_total)  # type: ignore[arg-type]
    found = f"{card.name} reports GTT {format_bytes(gtt)}; {how} = {format_bytes(want)}"
    pages = profile.ttm.int_param("pages_limit")
    ttm_bytes = pages * profile.page_size if pages else None
    if (abs(gtt - want) <= MIB and target.apu and ttm_bytes is not None and abs(gtt - ttm_bytes) > MIB
            and known(release) and satisfies(release.version, f">={_kernel_min()}")):  # type: ignore[union-attr]
        return failed(name, f"GTT = {profile.ttm.name}.pages_limit x page size", f"{found}, but "
                      f"{profile.ttm.name}.pages_limit allows {format_bytes(ttm_bytes)}", measurements=measurements,
                      why="since 6.10 KFD sizes an APU's GPU memory by TTM's pages_limit, not by amdgpu.gttsize: "
                          f"ROCm sees {format_bytes(ttm_bytes)}, not the {format_bytes(gtt)} of GTT",
                      remedy=f"drop amdgpu.gttsize and set `options {profile.ttm.name} pages_limit="
                             f"{gtt // profile.page_size} page_pool_size={gtt // profile.page_size}`, then {REBOOT}",
                      link="https://github.com/ROCm/ROCm/issues/6004",
                      fix=_ttm_instead_of_gttsize(profile, gtt // profile.page_size))
    if abs(gtt - want) <= MIB:
        return passed(name, f"GTT = {how}", found, measurements=measurements)
    return failed(name, f"GTT = {how}", found, measurements=measurements,
                  why="amdgpu sizes GTT from TTM's pages_limit; a mismatch means a parameter changed after "
                      "the driver loaded, or amdgpu.gttsize overrides it",
                  remedy=f"set the limit in /etc/modprobe.d (options {profile.ttm.name} pages_limit=N), {REBOOT}",
                  fix=_ttm_instead_of_gttsize(profile, fixes.ttm_pages(profile, HOST_HEADROOM, pages)))


def _configured_ttm(profile: SystemProfile) -> dict[str, dict[str, tuple[str, str]]]:
    """{module: {param: (value, where)}} from modprobe.d and the kernel command line."""
    result: dict[str, dict[str, tuple[str, str]]] = {}
    for module in platform_fact("ttm", "module_names"):
        for param, line in effective_options(profile.modprobe, module).items():
            value = option_value(line, param)
            if value is not None:
                result.setdefault(module, {})[param] = (value, f"{line.file}:{line.lineno}")
        for param, value in profile.kernel.cmdline_params.get(module, {}).items():
            result.setdefault(module, {})[param] = (value, "kernel command line")
    return result


def modprobe_in_effect(profile: SystemProfile) -> Verdict:
    name = "configured TTM limits are in effect"
    configured = _configured_ttm(profile)
    wanted = {m: {p: v for p, v in params.items() if p in TTM_PARAMS} for m, params in configured.items()}
    wanted = {m: p for m, p in wanted.items() if p}
    if not wanted:
        return passed(name, "configured values = live values", "no TTM limits configured: kernel defaults apply")
    live_module = profile.ttm.name if profile.ttm.loaded else None
    problems, fine = [], []
    for module, params in wanted.items():
        for param, (value, where) in sorted(params.items()):
            if live_module != module:
                problems.append(f"{where} sets {module}.{param}={value}, but the loaded TTM module is "
                                f"{live_module or 'none'}")
                continue
            live = profile.ttm.params.get(param)
            if live is None:
                problems.append(f"{where} sets {module}.{param}={value}; live value unreadable")
            elif parse_int(live) != parse_int(value):
                problems.append(f"{where} sets {module}.{param}={value}; live value is {live}")
            else:
                fine.append(f"{module}.{param}={live}")
    if not problems:
        return passed(name, "configured values = live values", "; ".join(fine))
    remedy = REBOOT
    fix: tuple[FixStep, ...] = (fixes.initramfs_step(profile),)
    if any("loaded TTM module" in p for p in problems) and live_module:
        remedy = (f"the DKMS driver uses its own TTM module: write `options {live_module} pages_limit=N "
                  f"page_pool_size=N` instead, then {REBOOT}")
        meant = next((parse_int(v) for params in wanted.values() for p, (v, _) in params.items()
                      if p == "pages_limit"), None)
        pages = fixes.ttm_pages(profile, HOST_HEADROOM, meant)
        fix = fixes.ttm_fix(profile, live_module, pages) if pages else ()
    return failed(name, "configured values = live values", "; ".join(problems),
                  why="amdgpu and ttm load from the initramfs, so /etc/modprobe.d counts only once the initramfs "
                      "is rebuilt (fixtures/knowledge/platform.toml [ttm] initramfs_note)", remedy=remedy, fix=fix)


def modprobe_lines_ignored(profile: SystemProfile) -> Verdict:
    name = "no GPU memory setting is ignored by modprobe"
    modules = set(platform_fact("ttm", "module_names")) | {"amdgpu", "amdkfd"}
    problems = []
    bad_lines: list[tuple[str, int]] = []  # to comment out: the plan writes one good line instead
    meant: list[int] = []  # the pages_limit the ignored lines meant
    typos: list[str] = []
    for f in profile.modprobe:
        for line in f.lines:
            mentions = any(m in line.text for m in modules)
            if not mentions:
                continue
            before = len(problems)
            if line.diagnostic:
                problems.append(f"{line.file}:{line.lineno}: `{line.text}`: modprobe says: {line.diagnostic}")
            elif not f.read_by_modprobe and line.command == "options":
                problems.append(f"{line.file}:{line.lineno}: `{line.text}`: never read ({f.why_not})")
            elif line.command == "options" and line.module in platform_fact("ttm", "module_names"):
                unknown = [k for k, _ in line.params if k not in TTM_PARAMS]
                if unknown:
                    problems.append(f"{line.file}:{line.lineno}: {line.module} has no parameter "
                                    f"{', '.join(unknown)} (the kernel ignores it)")
            if len(problems) > before:
                bad_lines.append((line.file, line.lineno))
                meant += [p for p in (_pages_in(line.text),) if p]
    for module, params in profile.kernel.cmdline_params.items():
        if module == "amdgpu":
            for param, value in params.items():
                if param != "gttsize" and difflib.get_close_matches(param, ["gttsize"], cutoff=0.8):
                    problems.append(f"kernel command line: amdgpu.{param} is not a parameter "
                                    "(amdgpu: unknown parameter ignored); did you mean amdgpu.gttsize?")
                    typos.append(f"amdgpu.{param}={value}")
                    mib = parse_int(value)
                    meant += [mib * MIB // profile.page_size] if mib else []
    if not problems:
        return passed(name, "every ttm/amdgpu line is one modprobe applies", "no ignored lines")
    return failed(name, "every ttm/amdgpu line is one modprobe applies", "; ".join(problems),
                  why="a line modprobe ignores leaves the default GTT limit in place, silently",
                  remedy="start option lines with the word `options` (e.g. `options ttm pages_limit=12582912`) "
                         f"in a file ending in .conf under /etc/modprobe.d, then {REBOOT}",
                  link="https://man7.org/linux/man-pages/man5/modprobe.d.5.html",
                  fix=_ignored_lines_fix(profile, tuple(bad_lines), meant, tuple(typos)))


def _ignored_lines_fix(profile: SystemProfile, bad_lines: tuple[tuple[str, int], ...], meant: list[int],
                       typos: tuple[str, ...]) -> tuple[FixStep, ...]:
    """Comment out what modprobe ignores and write the line it meant (capped to leave the host its
    headroom; computed from RAM when no ignored line says how much)."""
    steps = (fixes.cmdline_remove_step(profile, typos, source=fixes.MODPROBE_MAN),) if typos else ()
    pages = fixes.ttm_pages(profile, HOST_HEADROOM, max(meant) if meant else None)
    if pages:
        steps += fixes.ttm_fix(profile, _ttm_module(profile), pages, comment_out=bad_lines,
                               source=fixes.MODPROBE_MAN)
    return steps


def gttsize_not_deprecated(profile: SystemProfile) -> Verdict:
    name = "GTT is sized through TTM, not the deprecated amdgpu.gttsize"
    raw = profile.amdgpu.params.get("gttsize")
    since = str(platform_fact("gttsize", "deprecated_since_kernel"))
    if not profile.amdgpu.loaded:
        return not_applicable(name, "amdgpu not loaded")
    if raw is None or raw.strip() == "-1":
        return passed(name, "amdgpu.gttsize unset (-1)", f"amdgpu.gttsize={raw if raw is not None else 'unreadable'}")
    release = profile.kernel.release
    if known(release) and not satisfies(release.version, f">={since}"):  # type: ignore[union-attr]
        return passed(name, f"amdgpu.gttsize accepted before kernel {since}", f"amdgpu.gttsize={raw.strip()}")
    return failed(name, "amdgpu.gttsize unset (-1)", f"amdgpu.gttsize={raw.strip()} on kernel {release}",
                  why=f"deprecated since {since}; it raises GTT but not TTM's pages_limit, which is what ROCm "
                      "sees on an APU (fixtures/knowledge/platform.toml [gttsize])",
                  remedy=f"drop amdgpu.gttsize and set `options ttm pages_limit=N page_pool_size=N` "
                         f"(N = GiB x 262144), then {REBOOT}",
                  fix=_ttm_instead_of_gttsize(profile, fixes.ttm_pages(
                      profile, HOST_HEADROOM, (parse_int(raw) or 0) * MIB // profile.page_size or None)))


def gtt_at_least(profile: SystemProfile, target: Target, minimum: int | None) -> Verdict:
    name = "GTT is at least --min-gtt"
    card = target_card(profile, target)
    if minimum is None:
        return not_applicable(name, "no --min-gtt given")
    if card is None:
        return not_applicable(name, "no amdgpu card")
    if target.apu is False:
        return not_applicable(name, f"{target.gfx} is a discrete GPU: models live in its VRAM, not in GTT")
    if not known(card.gtt_total):
        return failed(name, f"GTT >= {format_bytes(minimum)}", str(card.gtt_total))
    gtt = int(card.gtt_total)  # type: ignore[arg-type]
    found = f"GTT {format_bytes(gtt)} on {card.name}"
    m = {"gtt_total_bytes": gtt, "min_gtt_bytes": minimum}
    if gtt >= minimum:
        return passed(name, f"GTT >= {format_bytes(minimum)}", found, measurements=m)
    pages = -(-minimum // profile.page_size)
    return failed(name, f"GTT >= {format_bytes(minimum)}", found, measurements=m,
                  why="models larger than GTT cannot be placed on the GPU",
                  remedy=f"/etc/modprobe.d/ttm.conf: `options {profile.ttm.name} pages_limit={pages} "
                         f"page_pool_size={pages}`, then {REBOOT}",
                  fix=fixes.ttm_fix(profile, _ttm_module(profile), pages))


def gtt_leaves_host_memory(profile: SystemProfile, target: Target) -> Verdict:
    name = "GTT leaves memory for the host"
    card = target_card(profile, target)
    if card is None or not known(card.gtt_total):
        return not_applicable(name, "no amdgpu card reporting GTT")
    if target.apu is not True:
        return not_applicable(name, "discrete GPU: GTT is host memory the GPU may map, not its own")
    if not known(profile.mem_total):
        return failed(name, "GTT below RAM", str(profile.mem_total))
    gtt, ram = int(card.gtt_total), int(profile.mem_total)  # type: ignore[arg-type]
    expected = f"GTT <= RAM - {format_bytes(HOST_HEADROOM)} = {format_bytes(ram - HOST_HEADROOM)}"
    found = f"GTT {format_bytes(gtt)} of {format_bytes(ram)} RAM"
    m = {"gtt_total_bytes": gtt, "mem_total_bytes": ram}
    if gtt <= ram - HOST_HEADROOM:
        return passed(name, expected, found, measurements=m)
    pages = (ram - HOST_HEADROOM) // profile.page_size
    fit = fixes.max_gtt_pages(profile, HOST_HEADROOM) or pages
    return failed(name, expected, found, measurements=m,
                  why="GTT is a limit, not a reservation, but a GPU allowed all of RAM can starve the host "
                      "into the OOM killer",
                  remedy=f"lower it: `options {profile.ttm.name} pages_limit={pages}` or less, then {REBOOT}",
                  fix=fixes.ttm_fix(profile, _ttm_module(profile), fit))


def vram_carveout(profile: SystemProfile, target: Target) -> Verdict:
    name = "VRAM carve-out suits a kernel with GTT"
    if target.apu is not True:
        return not_applicable(name, "not an APU")
    card = target_card(profile, target)
    if card is None or not known(card.vram_total):
        return not_applicable(name, "no amdgpu card reporting VRAM")
    vram = int(card.vram_total)  # type: ignore[arg-type]
    m = {"vram_total_bytes": vram, "gtt_total_bytes": card.gtt_total if known(card.gtt_total) else None}
    found = f"carve-out {format_bytes(vram)}, GTT {card.gtt_total if not known(card.gtt_total) else format_bytes(int(card.gtt_total))}"  # type: ignore[arg-type]
    if not known(profile.mem_total):
        return passed(name, "carve-out no larger than the RAM left to Linux", found, measurements=m)
    ram = int(profile.mem_total)  # type: ignore[arg-type]
    expected = f"carve-out <= RAM left to Linux ({format_bytes(ram)})"
    if vram <= ram:
        advice = ("small carve-out, compute uses GTT: good" if vram <= 2 * GIB
                  else "with kernel >= 6.10 a 512 MiB-2 GiB carve-out and a larger GTT give the same GPU memory "
                       "and leave the rest to the CPU")
        return passed(name, expected, f"{found}; {advice}", measurements=m)
    return failed(name, expected, found, measurements=m,
                  why="the carve-out is RAM the CPU never gets back; on a kernel with GTT, compute can use "
                      "system RAM without it",
                  remedy="set the UMA frame buffer size in the firmware setup to 512M-2G (or Auto) and raise GTT "
                         "with `options ttm pages_limit=N` instead",
                  fix=(FixStep("firmware", root=False, reboot=True,
                               note="in the firmware (BIOS/UEFI) setup set the UMA frame buffer size to 512M-2G "
                                    "(or Auto); GTT gives compute the rest, then re-run the suite for the GTT "
                                    "limit that suits the RAM Linux then sees"),))


# -- device nodes ----------------------------------------------------------------------

def _node_access(name: str, node: DeviceNode, profile: SystemProfile, what: str) -> Verdict:
    expected = f"{node.path} exists and is read-writable by this user"
    if not node.exists:
        return failed(name, expected, f"{node.path} does not exist",
                      why=f"{what} is how ROCm reaches the GPU",
                      remedy="load amdgpu (KFD is part of it); in a container pass --device=/dev/kfd --device=/dev/dri",
                      fix=(FixStep("manual", ("sudo modprobe amdgpu",),
                                   note="in a container, pass --device=/dev/kfd --device=/dev/dri instead"),))
    if node.read_write:
        return passed(name, expected, f"{node.path} {node.mode or ''} group {node.group or '?'}: read-write")
    user = profile.user
    found = f"{node.path} {node.mode or '?'} group {node.group or '?'}"
    if node.read_write is None:
        return failed(name, expected, f"{found}: access unknown (not recorded)")
    group = node.group or "render"
    if isinstance(user, Unknown):
        return failed(name, expected, f"{found}: not read-writable", remedy=f"sudo usermod -aG {group} $USER",
                      fix=(fixes.group_step(group),))
    found += f"; user {user.name} is in {', '.join(user.groups) or 'no groups'}"
    configured = user.configured_groups
    if not isinstance(configured, Unknown) and group in configured and group not in user.groups:
        remedy = f"you were added to {group} after this session started: log out and back in (or run `newgrp {group}`)"
        fix = fixes.relogin_step(group)
    else:
        remedy = f"sudo usermod -aG {group} $USER, then log out and back in"
        fix = fixes.group_step(group)
    return failed(name, expected, found, why=f"without it {what} cannot be opened: ROCm sees no GPU",
                  remedy=remedy, fix=(fix,), link="https://rocm.docs.amd.com/projects/install-on-linux/en/latest/install/prerequisites.html")


def kfd_access(profile: SystemProfile) -> Verdict:
    return _node_access("/dev/kfd is usable", profile.device_node("/dev/kfd"), profile, "/dev/kfd")


def render_node_access(profile: SystemProfile, target: Target) -> Verdict:
    name = "the GPU's render node is usable"
    nodes = profile.render_nodes
    if target.node and target.node.drm_render_minor:
        node = profile.device_node(f"/dev/dri/renderD{target.node.drm_render_minor}")
    elif nodes:
        node = nodes[0]
    else:
        node = DeviceNode("/dev/dri/renderD128", exists=False)
    return _node_access(name, node, profile, f"the render node {node.path}")


# -- KFD node, override, ROCm ----------------------------------------------------------

def kfd_node_matches(profile: SystemProfile, target: Target) -> Verdict:
    name = "a KFD GPU node has the target's gfx"
    expected = f"a KFD GPU node with gfx_target_version of {target.gfx}"
    if target.gfx is None:
        return not_applicable(name, target.how)
    nodes = profile.gpu_nodes
    if isinstance(profile.kfd_nodes, Unknown):
        return failed(name, expected, str(profile.kfd_nodes),
                      remedy="load amdgpu with KFD (CONFIG_HSA_AMD=y in the kernel config)")
    found = ", ".join(f"node {n.id}: {n.gfx or 'gfx_target_version missing'}" for n in nodes) or "no GPU nodes"
    if any(n.gfx == target.gfx for n in nodes):
        return passed(name, expected, found)
    return failed(name, expected, found, why="the runtime enumerates GPUs from the KFD topology",
                  remedy="a kernel too old for this GPU lists no node for it: update the kernel")


def native_support(profile: SystemProfile, target: Target) -> tuple[bool | None, str]:
    """Whether the system ROCm ships kernels for the target, and how we know (fixtures/native.py)."""
    if target.gfx is None:
        return None, "unknown"
    kernels = system_rocm(profile, target.gfx)
    return kernels.native, kernels.evidence


def hsa_override(profile: SystemProfile, target: Target) -> Verdict:
    """The override as the system ROCm sees it (the process environment)."""
    if target.gfx is None:
        return not_applicable(OVERRIDE_CHECK, target.how)
    return judge_override(system_rocm(profile, target.gfx), profile.env.get("HSA_OVERRIDE_GFX_VERSION"), target)


OVERRIDE_CHECK = "HSA_OVERRIDE_GFX_VERSION fits the GPU"


def judge_override(kernels: NativeKernels, value: str | None, target: Target) -> Verdict:
    """One runtime's override, judged against whether that runtime has native kernels:
    native + none -> pass; native + an override to other code -> fail when that code
    assumes more vector registers than the GPU has, else a caveat; not native + a good
    override -> pass; not native + none -> fail, naming the override."""
    name = OVERRIDE_CHECK if kernels.runtime == "the system ROCm" else f"{OVERRIDE_CHECK} ({kernels.runtime})"
    gfx = kernels.gfx
    arch = target.arch
    good = arch.hsa_override if arch else ""
    rests = (kernels.rests_on,) if kernels.rests_on else ()
    remove = _override_fix(kernels, None, "")
    if value is not None:
        over = override_to_gfx(value)
        expected = f"an override within {generation(gfx)}" + (f" (known to work: {good})" if good else "")
        source = arch.sources[0] if arch and arch.sources else ""
        fix = (_override_fix(kernels, good or None, source),)
        if over is None:
            return failed(name, expected, f"HSA_OVERRIDE_GFX_VERSION={value!r} is not major.minor.stepping",
                          remedy=f"export HSA_OVERRIDE_GFX_VERSION={good or 'X.Y.Z'}", fix=fix)
        if generation(over) != generation(gfx):
            return failed(name, expected, f"HSA_OVERRIDE_GFX_VERSION={value} makes {kernels.runtime} load {over} "
                          f"code on a {gfx}", why="code for another family crashes or faults on this GPU",
                          remedy=f"export HSA_OVERRIDE_GFX_VERSION={good}" if good else "unset it", fix=fix)
        if arch and value in arch.override_bad:
            return failed(name, expected, f"HSA_OVERRIDE_GFX_VERSION={value} is reported not to work on {gfx}",
                          remedy=f"export HSA_OVERRIDE_GFX_VERSION={good}" if good else "unset it",
                          link=source, fix=fix)
        if kernels.native and over != gfx:
            return _override_over_native(name, kernels, value, over, target, remove, rests)
        note = "; the runtime's own kernels are for this GPU" if kernels.native else ""
        return passed(name, expected, f"HSA_OVERRIDE_GFX_VERSION={value} ({over}); {kernels.evidence}{note}",
                      rests_on=rests)
    expected = f"native {gfx} kernels, or an override"
    if kernels.native is None:
        return not_applicable(name, f"cannot tell whether {kernels.runtime} has {gfx} kernels: {kernels.evidence}")
    if kernels.native:
        return passed(name, expected, f"no override; {kernels.evidence}", rests_on=rests)
    return failed(name, expected, f"no override; {kernels.evidence}", rests_on=rests,
                  why="without kernels for the GPU, HIP fails with 'invalid device function' / hipErrorNoBinaryForGpu",
                  remedy=(f"set HSA_OVERRIDE_GFX_VERSION={good} in {kernels.override_where}" if good else
                          f"no working override is known for {gfx}: use a {kernels.runtime} build with its kernels"),
                  fix=(_override_fix(kernels, good, arch.sources[0] if arch and arch.sources else "") if good else
                       FixStep("packages", root=False, note=f"no working override is known for {gfx}: install a "
                                                            f"{kernels.runtime} build with its kernels"),))


def _override_fix(kernels: NativeKernels, value: str | None, source: str) -> FixStep:
    """Set (value) or remove (None) the override where this runtime reads it: ollama's service
    environment, else the user's shell environment."""
    if kernels.runtime == "ollama":
        if value is None:
            return FixStep("service-env", root=True, restart=("ollama",), source=source,
                           note=f"remove HSA_OVERRIDE_GFX_VERSION from {kernels.override_where}")
        return fixes.service_env_step("ollama", "HSA_OVERRIDE_GFX_VERSION", value)
    step = fixes.user_env_step("HSA_OVERRIDE_GFX_VERSION", value, source=source)
    return step if value is not None else FixStep(step.group, step.commands, root=False, edits=step.edits,
                                                  note=f"remove HSA_OVERRIDE_GFX_VERSION from "
                                                       f"{kernels.override_where}", source=source)


def _override_over_native(name: str, kernels: NativeKernels, value: str, over: str, target: Target,
                          remove: FixStep, rests: tuple[str, ...]) -> Verdict:
    """An override that replaces a runtime's native kernels with another chip's code."""
    mine, theirs = archs().get(kernels.gfx), archs().get(over)
    found = (f"HSA_OVERRIDE_GFX_VERSION={value} makes {kernels.runtime} run {over} code although "
             f"{kernels.evidence}")
    expected = f"no override: {kernels.runtime} has native {kernels.gfx} kernels"
    if mine and theirs and mine.vgprs_per_simd and theirs.vgprs_per_simd > mine.vgprs_per_simd:
        return failed(name, expected, found, fix=(remove,), rests_on=rests,
                      why=(f"{over} code may use {theirs.vgprs_per_simd} vector registers per SIMD; a {kernels.gfx} "
                           f"has {mine.vgprs_per_simd} (LLVM comgr ISA table, fixtures/knowledge/archs.toml): kernels "
                           f"built for {over} can fail to launch or compute wrongly, and its native kernels are unused"),
                      remedy=f"remove HSA_OVERRIDE_GFX_VERSION from {kernels.override_where}")
    return passed(name, expected, found, rests_on=rests,
                  caveats=(f"not needed: {kernels.runtime} has native {kernels.gfx} kernels; remove the override "
                           f"from {kernels.override_where} to use them",))


def rocm_version(profile: SystemProfile, spec: str | None) -> Verdict:
    name = "ROCm version meets --rocm"
    found = (f"ROCm {profile.rocm.version_text} in {profile.rocm.path}" if known(profile.rocm.version)
             else str(profile.rocm.version))
    if not spec:
        return not_applicable(name, f"no --rocm requirement; {found}")
    if not known(profile.rocm.version):
        return failed(name, f"ROCm {spec}", found, remedy="install ROCm (amdgpu-install) or point ROCM_PATH at it")
    if satisfies(profile.rocm.version, spec):  # type: ignore[arg-type]
        return passed(name, f"ROCm {spec}", found)
    return failed(name, f"ROCm {spec}", found, remedy=f"install a ROCm release matching {spec}")


def rocminfo_sees_gpu(profile: SystemProfile, target: Target) -> Verdict:
    name = "the ROCm runtime (rocminfo) opens the GPU"
    if target.gfx is None:
        return not_applicable(name, target.how)
    agents = profile.rocminfo
    if isinstance(agents, Unknown):
        if "not on PATH" in agents.why or "has no output" in agents.why:
            return not_applicable(name, agents.why)
        return failed(name, f"a GPU agent {target.gfx}", str(agents),
                      remedy="run rocminfo yourself; 'Unable to open /dev/kfd' means permissions (see the /dev/kfd check)")
    over = override_to_gfx(profile.env.get("HSA_OVERRIDE_GFX_VERSION", "")) if profile.env.get(
        "HSA_OVERRIDE_GFX_VERSION") else None
    accepted = {target.gfx} | ({over} if over else set())
    gpus = [a for a in agents if a.is_gpu]
    found = ", ".join(f"{a.name} ({a.marketing_name})" for a in gpus) or "no GPU agents"
    if any(a.name in accepted for a in gpus):
        return passed(name, f"a GPU agent {' or '.join(sorted(accepted))}", found)
    return failed(name, f"a GPU agent {' or '.join(sorted(accepted))}", found,
                  remedy="check /dev/kfd access and HSA_OVERRIDE_GFX_VERSION")
