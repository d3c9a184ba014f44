"""Turn a packet payload (bytes, memoryview, uint8 array) into a read-only numpy view."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from microexp.errors import DecodeError

__all__ = ["as_bytes_array", "as_words"]


def as_bytes_array(data: bytes | bytearray | memoryview | np.ndarray) -> npt.NDArray[np.uint8]:
    """A flat uint8 view of ``data`` (no copy where possible)."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


def as_words(
    data: bytes | bytearray | memoryview | np.ndarray, *, what: str, size: int = 2
) -> npt.NDArray[np.uint16]:
    """Little-endian 16-bit words of ``data``; DecodeError naming the byte count if it is odd."""
    raw = as_bytes_array(data)
    if raw.size % size:
        raise DecodeError(
            f"{what}: {raw.size} bytes is not a multiple of the {size}-byte word size"
        )
    return raw.view("<u2")
