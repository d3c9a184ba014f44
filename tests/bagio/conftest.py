"""Shared fixtures of the bagio tests: a writable copy of the real sqlite3 bag (``real_bag`` is in
tests/conftest.py) and bags written here."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from microexp.bagio import messages as M
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter

EVENT_TOPIC = "/event_camera/events"
REAL_RIHS01 = "RIHS01_d6fa176260b1f37e5a40845305315e150a0f18191241eb64f407442aa29844aa"


@pytest.fixture
def real_bag_copy(real_bag: Path, tmp_path: Path) -> Path:
    """A writable copy of the real bag."""
    dst = tmp_path / "copy"
    shutil.copytree(real_bag, dst)
    for path in dst.iterdir():
        path.chmod(0o644)
    dst.chmod(0o755)
    return dst


def write_packet_bag(
    path: Path,
    *,
    n: int = 40,
    payload_bytes: int = 100_000,
    storage: str = "mcap",
    compression: str | None = None,
) -> list[bytes]:
    """A bag of ``n`` EventPacket messages (seq 0..n-1) with seeded random payloads; returns them."""
    ts = build_typestore()
    rng = np.random.default_rng(7)
    payloads = [rng.integers(0, 256, payload_bytes, dtype=np.uint8).tobytes() for _ in range(n)]
    with BagWriter(path, storage=storage, compression=compression) as bag:  # type: ignore[arg-type]
        bag.add_topic(EVENT_TOPIC, M.EVENT_PACKET, qos="sensor_data")
        for i, data in enumerate(payloads):
            msg = M.event_packet(ts, events=data, stamp_ns=1_000_000_000 + i * 1_000_000,
                                 frame_id="evk4", width=1280, height=720, seq=i)  # fmt: skip
            bag.write_message(EVENT_TOPIC, 1_000_000_000 + i * 1_000_000, msg)
    return payloads
