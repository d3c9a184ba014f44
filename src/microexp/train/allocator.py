"""glibc ``malloc`` settings for a training process.

PyTorch's CPU allocator hands every tensor to ``malloc``. glibc serves blocks above its mmap
threshold (dynamic, at most 32 MiB by default) with a fresh ``mmap`` and gives them back with
``munmap`` on free, so each training step of the SNN — tens of activation buffers of a few MiB,
allocated and freed every step — makes the kernel map, zero and unmap them again. Measured here
(T = 32, batch 8, one thread): 0.93–0.99 s user + 0.99–1.24 s system per step by default,
1.01 s user + 0.00–0.09 s system with the thresholds raised to 1 GiB, i.e. the step costs half the
CPU. :func:`keep_large_blocks_in_heap` raises them with ``mallopt`` at run time (the same as
starting the process with ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``); the freed
memory stays in the process for the next step instead of going back to the kernel.

Process-wide, so only the command line calls it (``microexp train`` / ``reconstruct``), never the
library.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

__all__ = ["ENV_NAMES", "keep_large_blocks_in_heap"]

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3

ENV_NAMES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
"""glibc's environment variables for the same settings; when either is set it is left alone."""


def keep_large_blocks_in_heap(threshold: int = 1 << 30) -> bool:
    """Serve blocks up to ``threshold`` bytes from the heap and keep freed heap memory.

    Returns True when glibc accepted both settings; False (and changes nothing) elsewhere: not
    Linux, not glibc (musl has no ``mallopt``), or the user set :data:`ENV_NAMES` themselves.
    """
    if not sys.platform.startswith("linux") or any(n in os.environ for n in ENV_NAMES):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    value = min(threshold, 2**31 - 1)
    ok = bool(mallopt(_M_MMAP_THRESHOLD, value)) and bool(mallopt(_M_TRIM_THRESHOLD, value))
    log.debug("glibc mallopt mmap/trim threshold %d: %s", value, "set" if ok else "refused")
    return ok
