"""Streaming engine latency and throughput on CPU (2 threads): decode + slice + crop + SNN step.

Input: EVK4-like EVT 3.0 packets (1280x720, events mostly on a 256x256 face box), one packet per
1 ms of sensor time (metavision_driver's default message time threshold), encoded beforehand with
microexp's Evt3Encoder (not timed). Each packet goes through ``StreamingEngine.push_packet``.

Figures per input rate:
- latency: ``SlicePrediction.latency_ms``, from the push of the packet that closes a slice to the
  prediction (decode that packet + slice + crop + model step + decisions), p50 / p99;
- work per slice: all the time spent on one slice's 33 packets, p50 / p99 (must stay < 33 ms);
- throughput: events / wall time over the run ("x realtime" = stream seconds / wall seconds); the
  maximum sustained event rate is estimated as input rate × x realtime at the highest rate (all
  per-slice and per-event costs included; exact when the run is just sustained).
Reference, same run: the naive spikingjelly module stepped one slice at a time (2.84 ms measured
on the 2-core development machine), and the Rust ``evt3`` 0.4.1 stateful decoder on the same
packets.

Run: python bench/stream_latency.py [--rates 1e6 1e7 3e7 5e7] [--seconds 2] [--threads 2]
(OMP_WAIT_POLICY defaults to PASSIVE here, as in the inference node; set it to ACTIVE to compare.)
"""

from __future__ import annotations

import os

# Batch-1 steps are short: OpenMP threads that spin between them (the default policy) burn the
# other core and, on a busy 2-core machine, multiply the latency. Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import time

import numpy as np
import torch

from microexp.events.evt3 import Evt3Encoder
from microexp.events.packet import make_packet_decoder
from microexp.events.types import make_events
from microexp.models.snn import PaperSNN
from microexp.stream.config import StreamConfig
from microexp.stream.engine import StreamingEngine
from microexp.stream.predictor import Predictor

W, H = 1280, 720
BOX = (512, 232, 256, 256)
PACKET_US = 1000


def trained_like_snn(seed: int = 0) -> PaperSNN:
    """A seeded PaperSNN scaled so every layer fires (a fresh init is silent after layer 1)."""
    torch.manual_seed(seed)
    model = PaperSNN(num_classes=21).eval()
    net = model.net
    x = (torch.rand(4, 1, 2, 64, 64) < 0.1).float() * 3
    rate: dict[int, float] = {}
    for n in (2, 6, 11, 14):
        net[n].register_forward_hook(lambda _m, _i, o, n=n: rate.__setitem__(n, float(o.mean())))
    with torch.no_grad():
        for w, n in ((0, 2), (4, 6), (10, 11), (13, 14)):
            for _ in range(40):
                model(x)
                if rate[n] >= 0.1:
                    break
                net[w].weight.mul_(2.0)
    return model


def make_packets(rate: float, seconds: float, seed: int) -> tuple[list[bytes], int]:
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = np.sort(rng.integers(0, int(seconds * 1e6), n))
    inside = rng.random(n) < 0.8
    bx, by, bw, bh = BOX
    x = np.where(inside, rng.integers(bx, bx + bw, n), rng.integers(0, W, n))
    y = np.where(inside, rng.integers(by, by + bh, n), rng.integers(0, H, n))
    ev = make_events(x=x, y=y, t=t, p=rng.integers(0, 2, n))
    cuts = np.searchsorted(t, np.arange(PACKET_US, int(seconds * 1e6), PACKET_US))
    enc = Evt3Encoder()
    return [enc.encode(p) for p in np.split(ev, cuts)], n


def run(model: PaperSNN, packets: list[bytes], backend: str) -> dict[str, float]:
    engine = StreamingEngine(
        Predictor(model, classes=[f"c{i}" for i in range(21)], backend=backend),  # type: ignore[arg-type]
        config=StreamConfig(roi=BOX),
        width=W,
        height=H,
    )
    for data in packets[:200]:  # warm-up (first torch calls, LUTs)
        engine.push_packet(data, encoding="evt3")
    engine.reset()
    lat, work, cpu_lat, cpu_work = [], [], [], []
    acc = cpu_acc = 0.0
    t_all, c_all = time.perf_counter(), time.process_time()
    for data in packets:
        t0, c0 = time.perf_counter(), time.process_time()
        out = engine.push_packet(data, encoding="evt3")
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        acc += dt
        cpu_acc += dc
        if out:
            lat.extend(p.latency_ms for p in out)
            cpu_lat.append(dc * 1e3)
            work.append(acc * 1e3 / len(out))
            cpu_work.append(cpu_acc * 1e3 / len(out))
            acc = cpu_acc = 0.0
    wall, cpu = time.perf_counter() - t_all, time.process_time() - c_all

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    return {
        "slices": len(lat),
        "lat_p50": pct(lat, 50),
        "lat_p99": pct(lat, 99),
        "work_p50": pct(work, 50),
        "work_p99": pct(work, 99),
        "cpu_lat_p50": pct(cpu_lat, 50),
        "cpu_lat_p99": pct(cpu_lat, 99),
        "cpu_work_p50": pct(cpu_work, 50),
        "cpu_work_p99": pct(cpu_work, 99),
        "wall": wall,
        "cpu": cpu,
    }


def step_only(model: PaperSNN, backend: str, repeats: int = 300) -> float:
    pred = Predictor(model, classes=[f"c{i}" for i in range(21)], backend=backend)  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    frames = ((rng.random((repeats, 2, 64, 64)) < 0.05) * 3).astype(np.float32)
    for f in frames[:20]:
        pred.step(f)
    times = []
    for f in frames:
        t0 = time.perf_counter()
        pred.step(f)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def decode_rate(packets: list[bytes], n: int) -> tuple[float, float | None]:
    dec = make_packet_decoder("evt3", width=W, height=H)
    t0 = time.perf_counter()
    got = sum(dec.decode(p).events.size for p in packets)
    ours = n / (time.perf_counter() - t0)
    assert got == n, (got, n)
    try:
        import evt3  # type: ignore[import-untyped]
    except ImportError:
        return ours, None
    rdec = evt3.Decoder()
    t0 = time.perf_counter()
    for p in packets:
        rdec.feed(p)
    return ours, n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[1e6, 1e7, 3e7, 5e7])
    parser.add_argument("--seconds", type=float, default=2.0, help="stream length up to 10 Mev/s")
    parser.add_argument("--backend", default="fast", choices=["fast", "fast_sparse", "module"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = trained_like_snn()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; EVT 3.0 packets of "
          f"{PACKET_US} us, {W}x{H}, box {BOX}, slices 33 ms, backend {args.backend}")  # fmt: skip
    for backend in (args.backend, "module"):
        print(f"model step alone ({backend}): {step_only(model, backend):.2f} ms median")
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        "wall: elapsed time (inflated when other processes share the CPUs); cpu: CPU time of this"
    )
    print(
        "process (all threads) over the same spans, the figure for an idle machine with 1 thread."
    )
    print(f"{'rate Mev/s':>10} {'slices':>6} {'lat p50/p99 wall':>18} {'lat p50/p99 cpu':>17} "
          f"{'work/slice p50/p99 wall':>24} {'cpu':>15} {'x realtime wall/cpu':>20} "
          f"{'decode ours':>11} {'evt3':>8}")  # fmt: skip
    best = (0.0, 0.0)
    for rate in args.rates:
        seconds = args.seconds if rate <= 1e7 else 1.0
        packets, n = make_packets(rate, seconds, seed=int(rate) % 1000)
        r = run(model, packets, args.backend)
        ours, ref = decode_rate(packets, n)
        best = (rate, seconds / r["cpu"])
        print(
            f"{rate / 1e6:>10.1f} {r['slices']:>6} {r['lat_p50']:>8.2f}/{r['lat_p99']:<7.2f}ms "
            f"{r['cpu_lat_p50']:>7.2f}/{r['cpu_lat_p99']:<7.2f}ms "
            f"{r['work_p50']:>14.2f}/{r['work_p99']:<7.2f}ms {r['cpu_work_p50']:>6.2f}/{r['cpu_work_p99']:<6.2f}ms "
            f"{seconds / r['wall']:>11.2f}x/{seconds / r['cpu']:<6.2f}x "
            f"{ours / 1e6:>6.1f}Mev/s {'-' if ref is None else f'{ref / 1e6:.1f}':>5}Mev/s"
        )
        del packets
    rate, speed = best
    print(f"max sustained event rate ~ {rate * speed / 1e6:.1f} M events/s "
          f"({rate / 1e6:.0f} Mev/s input ran at {speed:.2f}x real time in CPU time)")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
