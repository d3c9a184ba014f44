"""Training throughput (clips/s) at T = 75, batch 8: the paper's SNN as built naively with
spikingjelly (bench/_snn_reference.py; 2.8 s per step measured on the 2-core development machine) vs our
PaperSNN through microexp's training step (``model_scores`` + ``training_loss`` + Adam) with its
default neuron (FastPLIFNode, leaner multi-step PLIF) and with spikingjelly's own PLIF, in the
same run, interleaved; plus the 3D-CNN and SEW-ResNet for scale, and the epoch time this implies
for the paper's dataset (147 clips, 6/7 of them in a LOSO training fold).
Run: python bench/train_throughput.py [--t 75] [--batch 8] [--repeats 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _snn_reference import reference_net
from spikingjelly.activation_based import functional

from microexp.models.registry import build_model
from microexp.train.loso import model_scores, training_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--t", type=int, default=75)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-others", action="store_true", help="time only the two SNN builds")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}, T={args.t}, batch {args.batch}"
    )
    torch.manual_seed(0)
    xs = (torch.rand(args.t, args.batch, 2, 64, 64) < 0.05).float().to(dev)
    y = torch.randint(0, 21, (args.batch,), device=dev)
    lengths = torch.full((args.batch,), args.t, device=dev)

    ref = reference_net(step_mode="m").to(dev).train()
    ref_opt = torch.optim.Adam(ref.parameters(), 1e-3)
    onehot = F.one_hot(y, 21).float()

    def ref_step() -> None:
        out = ref(xs).mean(0)
        loss = F.mse_loss(out, onehot)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        functional.reset_net(ref)

    def ours(cfg: dict[str, object], x: torch.Tensor) -> Callable[[], None]:
        model = build_model(cfg).to(dev).train()
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step() -> None:
            loss = training_loss(model, model_scores(model, x, lengths), y, "mse")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    methods: dict[str, Callable[[], None]] = {
        "spikingjelly naive SNN (reference)": ref_step,
        "microexp PaperSNN (FastPLIFNode)": ours({"name": "snn", "num_classes": 21}, xs),
        "microexp PaperSNN (spikingjelly PLIF)": ours(
            {"name": "snn", "num_classes": 21, "neuron": "plif_sj"}, xs
        ),
    }
    if not args.skip_others:
        methods["microexp C3D (13.25 M)"] = ours({"name": "c3d", "num_classes": 21}, xs)
        methods["microexp SEW-ResNet (small)"] = ours({"name": "sew", "num_classes": 21}, xs)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for step in methods.values():  # warm-up
        step()
    times: dict[str, list[float]] = {k: [] for k in methods}
    cpu: dict[str, list[float]] = {k: [] for k in methods}
    for _ in range(args.repeats):
        for k, step in methods.items():
            sync()
            t, c = time.perf_counter(), time.process_time()
            step()
            sync()
            times[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    ref_key = "spikingjelly naive SNN (reference)"
    base = statistics.median(times[ref_key])
    base_cpu = statistics.median(cpu[ref_key])
    train_clips = 147 * 6 // 7
    print("  (wall: median; CPU: process CPU time, steadier on a loaded machine)")
    for k, ts in times.items():
        med = statistics.median(ts)
        med_cpu = statistics.median(cpu[k])
        print(f"  {k:40s} {med * 1e3:7.0f} ms/step wall  {args.batch / med:6.2f} clips/s  x{base / med:.2f}"
              f"   CPU {med_cpu * 1e3:7.0f} ms x{base_cpu / med_cpu:.2f}"
              f"   (epoch of {train_clips} clips ≈ {train_clips / (args.batch / med):.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
