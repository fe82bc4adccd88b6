"""Device memory tests: patterns written, read back and compared, chunk by chunk, then
the memory released; a memory test, not only an allocation (RVS MEM / memtest style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from fixtures.sizes import MIB

CHUNK = 16 * MIB // 4  # int32 elements compared per step: bounded extra memory


@dataclass(frozen=True)
class MemoryResult:
    nbytes: int
    patterns: int
    mismatches: int
    first_bad: tuple[str, int, int, int] | None  # pattern, index, found, expected
    released: bool | None
    allocated_before: int | None
    allocated_after: int | None


def _expected(torch: Any, pattern: str, start: int, count: int, device: str) -> Any:
    idx = torch.arange(start, start + count, dtype=torch.int64, device=device)
    if pattern == "address":
        return (idx & 0x7FFFFFFF).to(torch.int32)
    if pattern == "inverse-address":
        return (~(idx & 0x7FFFFFFF)).to(torch.int32)
    value = {"0x55": 0x55555555, "0xAA": -0x55555556}[pattern]
    return torch.full((count,), value, dtype=torch.int32, device=device)


PATTERNS = ("address", "inverse-address", "0x55", "0xAA")


def pattern_test(torch: Any, device: str, nbytes: int, corrupt: Callable[[Any], None] | None = None) -> MemoryResult:
    """Fill `nbytes` on the device with each pattern, verify every element, free it."""
    gpu = device != "cpu"
    before = torch.cuda.memory_allocated(device) if gpu else None
    n = max(1, nbytes // 4)
    buf = torch.empty(n, dtype=torch.int32, device=device)
    mismatches, first_bad = 0, None
    for pattern in PATTERNS:
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            buf[start:start + count] = _expected(torch, pattern, start, count, device)
        if corrupt is not None:
            corrupt(buf)
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            want = _expected(torch, pattern, start, count, device)
            bad = buf[start:start + count] != want
            nbad = int(bad.sum().item())
            if nbad:
                mismatches += nbad
                if first_bad is None:
                    i = int(torch.nonzero(bad)[0].item())
                    first_bad = (pattern, start + i, int(buf[start + i].item()), int(want[i].item()))
    del buf
    after = None
    if gpu:
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        after = torch.cuda.memory_allocated(device)
    return MemoryResult(n * 4, len(PATTERNS), mismatches, first_bad,
                        None if before is None else after <= before, before, after)
