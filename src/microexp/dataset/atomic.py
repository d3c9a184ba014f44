"""Atomic file writes: write to a temporary sibling, fsync, then ``os.replace``.

A reader never sees a half-written file: either the old one (or none) or the complete new one.
Clip directories are built the same way (``<clip>.partial`` renamed to ``<clip>`` once complete).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "NpyAppender",
    "atomic_open",
    "atomic_write_json",
    "atomic_write_npy",
    "atomic_write_text",
    "remove_tree",
]


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_write_npy(path: Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def remove_tree(path: Path) -> None:
    """Remove a directory tree if it exists."""
    if path.exists():
        shutil.rmtree(path)


class NpyAppender:
    """Write a ``.npy`` file row block by row block without holding it in memory.

    The header is reserved with room to spare and rewritten with the final first dimension on
    :meth:`close`, so frames of a long clip stream straight to disk.
    """

    _HEADER_LEN = 256

    def __init__(self, path: Path, *, row_shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.path = Path(path)
        self.row_shape = tuple(int(s) for s in row_shape)
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self._fh: IO[bytes] | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._fh.write(self._header(0))

    def _header(self, rows: int) -> bytes:
        d = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (rows, *self.row_shape),
        }
        body = repr(d).encode("latin1")
        total = self._HEADER_LEN
        pad = total - 10 - len(body) - 1
        if pad < 0:
            raise ValueError(f"npy header too long for {self.path}")
        header = body + b" " * pad + b"\n"
        return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header

    def append(self, rows: np.ndarray) -> None:
        if self._fh is None:
            raise ValueError(f"{self.path} is closed")
        block = np.ascontiguousarray(rows, dtype=self.dtype)
        if block.shape[1:] != self.row_shape:
            raise ValueError(f"{self.path}: row shape {block.shape[1:]} != {self.row_shape}")
        self._fh.write(block.tobytes())
        self.rows += block.shape[0]

    def close(self) -> None:
        if self._fh is None:
            return
        self._fh.seek(0)
        self._fh.write(self._header(self.rows))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
