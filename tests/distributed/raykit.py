"""Helpers of the Ray tests: the smoke training recipe, listening sockets of a process tree."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from pathlib import Path

import psutil
import torch

from microexp.distributed.jobs import InProcessExecutor
from microexp.train.config import TrainConfig
from microexp.train.loso import train_loso

SMOKE_TRAIN: dict[str, object] = {
    "camera": "davis",
    "modality": "events",
    "classes": "from_dataset",
    "model": {"name": "snn"},
    "train": {"epochs": 2, "batch_size": 4, "max_clip_len": 5, "max_steps_per_epoch": 2,
              "crop": "random"},
    "seed": 0,
    "device": "cpu",
}  # fmt: skip
"""A smoke LOSO run: 2 epochs of 2 steps per fold (seconds); random crops exercise the seeds."""

RUN_FILES = ("results.json", "folds.csv", "per_class.csv", "confusion.csv", "table5.md",
             "table5.csv")  # fmt: skip
"""The pooled outputs of a LOSO run that must be byte-identical between executors."""


def run_bytes(run: Path) -> dict[str, bytes]:
    """Every pooled output and every fold's predictions.csv of a run directory, as bytes."""
    files = {name: (run / name).read_bytes() for name in RUN_FILES}
    for p in sorted(run.glob("fold_*/predictions.csv")):
        files[f"{p.parent.name}/predictions.csv"] = p.read_bytes()
    return files


def tree(pids: Iterable[int]) -> list[psutil.Process]:
    """The processes ``pids`` and all their descendants (those still alive)."""
    procs: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs[p.pid] = p
            procs.update({c.pid: c for c in p.children(recursive=True)})
        except psutil.NoSuchProcess:
            continue
    return list(procs.values())


def listening(procs: Iterable[psutil.Process]) -> list[tuple[int, str, str, int]]:
    """``(pid, name, ip, port)`` of every TCP socket these processes listen on and every UDP
    socket they bound without a peer (IPv4 and IPv6)."""
    pids = {p.pid: p for p in procs}
    out = []
    for c in psutil.net_connections("inet"):
        is_server = c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and not c.raddr)
        if c.pid in pids and is_server and c.laddr:
            try:
                name = pids[c.pid].name()
            except psutil.NoSuchProcess:
                name = "?"
            out.append((c.pid, name, c.laddr.ip, c.laddr.port))
    return out


def is_loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def not_loopback(sockets: Iterable[tuple[int, str, str, int]]) -> list[tuple[int, str, str, int]]:
    return [s for s in sockets if not is_loopback(s[2])]


def sequential_run(cfg: TrainConfig, out: Path) -> dict[str, bytes]:
    """The reference: every fold in this process, one after the other, one torch thread (as a
    Ray job has with cpus_per_job = 1); returns :func:`run_bytes`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_loso(cfg, out, progress=False, executor=InProcessExecutor())
    finally:
        torch.set_num_threads(threads)
    return run_bytes(out)
