"""glibc keeps large blocks in the heap once :func:`keep_large_blocks_in_heap` ran (checked in a
fresh interpreter through mallinfo2: bytes in mmapped blocks while a 64 MiB buffer is alive)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from microexp.train.allocator import ENV_NAMES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

_PROBE = textwrap.dedent(
    """
    import ctypes, sys
    from microexp.train.allocator import keep_large_blocks_in_heap

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                     "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    tuned = keep_large_blocks_in_heap() if sys.argv[1] == "tuned" else None
    before = libc.mallinfo2().hblkhd
    buf = bytearray(64 << 20)
    print(tuned, libc.mallinfo2().hblkhd - before)
    """
)


def _probe(mode: str, env: dict[str, str]) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    return out[0], int(out[1])


def test_large_blocks_leave_mmap_for_the_heap() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    tuned, mmapped = _probe("default", env)
    assert tuned == "None" and mmapped >= 64 << 20  # glibc's default: the buffer is mmapped
    assert _probe("tuned", env) == ("True", 0)


def test_settings_made_by_the_user_are_left_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 20)
    tuned, mmapped = _probe("tuned", env)
    assert tuned == "False" and mmapped >= 64 << 20
