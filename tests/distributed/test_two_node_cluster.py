"""A two-node Ray cluster on this machine (``ray start --head`` + ``ray start --address``, both on
127.0.0.1 with their own ports, temp dirs and auth token), a LOSO run across both nodes from the
command line (``microexp train --ray-address``), every listening socket on loopback, and a
teardown that stops only these nodes (each ``ray start --block`` stops the processes it started
when terminated; ``ray stop`` would stop every Ray instance on the machine, others' included)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml
from raykit import SMOKE_TRAIN, listening, not_loopback, run_bytes, sequential_run, tree

from microexp.train.config import load_train_config

RAY = str(Path(sys.executable).with_name("ray"))

# Ray rewrites 127.0.0.1 in --address to this machine's outward address (resolve_ip_for_localhost)
# unless its single-node mode is on, which refuses to add a worker node; the worker node's
# `ray start` therefore runs with that rewrite switched off, so it joins the head on loopback.
WORKER_NODE = """
import sys
import ray._private.services as services
services.resolve_ip_for_localhost = lambda host: host
from ray.scripts.scripts import main
sys.argv[0] = "ray"
main()
"""


@dataclass
class Cluster:
    address: str
    env: dict[str, str]
    starters: list[subprocess.Popen[bytes]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ray start --head exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"no Ray head on 127.0.0.1:{port} after {timeout} s")


def _wait_started(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Until ``ray start`` says its node runs (it has registered with the head by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"ray start exited: {log.read_text()[-2000:]}"
        if "Ray runtime started" in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the worker node did not start in {timeout} s: {log}")


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[Cluster]:
    # Ray's socket paths live under the temp dir and must stay under 108 bytes (AF_UNIX)
    short = Path(tempfile.mkdtemp(prefix="mxray"))
    token = short / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
           "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    port = _free_port()
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats",
              "--block"]  # fmt: skip
    logs = [(tmp_path / f"{n}.log").open("wb") for n in ("head", "worker")]
    head = subprocess.Popen(
        [RAY, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--include-dashboard=false", f"--temp-dir={short / 'head'}", *common],
        env={**env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}, stdout=logs[0], stderr=logs[0],
    )  # fmt: skip
    starters = [head]
    try:
        _wait_port(port, head, timeout=120)
        starters.append(subprocess.Popen(
            [sys.executable, "-c", WORKER_NODE, "start", f"--address=127.0.0.1:{port}",
             f"--temp-dir={short / 'worker'}", *common],
            env=env, stdout=logs[1], stderr=logs[1],
        ))  # fmt: skip
        _wait_started(tmp_path / "worker.log", starters[1], timeout=120)
        yield Cluster(f"127.0.0.1:{port}", env, starters)
    finally:
        procs = tree(p.pid for p in starters)
        for p in reversed(starters):  # worker node first, then the head
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        _gone, alive = psutil.wait_procs(procs, timeout=30)
        for p in alive:  # what a --block starter did not stop: only this cluster's processes
            p.kill()
        for f in logs:
            f.close()
        shutil.rmtree(short, ignore_errors=True)


def test_loso_runs_across_two_loopback_nodes(
    two_nodes: Cluster, tiny_dataset: Path, tmp_path: Path
) -> None:
    cfg_path = tmp_path / "smoke.yaml"
    cfg_path.write_text(yaml.safe_dump({**SMOKE_TRAIN, "dataset": str(tiny_dataset)}))
    cmd = [sys.executable, "-m", "microexp.cli.main", "train", "--config", str(cfg_path),
           "-o", str(tmp_path / "ray"), "--ray-address", two_nodes.address, "--no-progress"]  # fmt: skip
    driver = subprocess.Popen(cmd, env={**two_nodes.env, "RAY_ADDRESS": ""},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    sockets = []
    while driver.poll() is None:  # look at the sockets while the run goes on
        sockets += listening(tree([*(p.pid for p in two_nodes.starters), driver.pid]))
        time.sleep(1.0)
    out, err = driver.communicate(timeout=60)
    assert driver.returncode == 0, err.decode()[-3000:]
    assert "mean top-1" in out.decode()
    nodes = re.findall(r"\] \S+/fold_s0\d done in [\d.]+ s on node (\w+)", err.decode())
    assert len(nodes) == 3 and len(set(nodes)) == 2, err.decode()[-3000:]  # both nodes ran folds
    raylets = {pid for pid, name, _ip, _port in sockets if name == "raylet"}
    assert len(raylets) == 2 and any(name == "gcs_server" for _p, name, _i, _q in sockets)
    assert not_loopback(sockets) == [], "a Ray process listens beyond loopback"
    reference = sequential_run(load_train_config(cfg_path), tmp_path / "seq")
    assert run_bytes(tmp_path / "ray") == reference
