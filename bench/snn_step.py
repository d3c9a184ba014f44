"""Single-step latency of the paper's SNN at batch 1 on 2 threads: naive spikingjelly vs FastSNN.

(a) the naive spikingjelly build of bench/_snn_reference.py (nn.Sequential of layer.* and
ParametricLIFNode, ``set_step_mode(net, "s")``, ``torch.no_grad``), the reference (2.84 ms
measured on the 2-core development machine); (b) ``PaperSNN.step`` (same layers, our wrapper); (c) ``FastSNN`` with the
dense first FC layer; (d) ``FastSNN`` always gathering the active rows in the first FC layer; (e) ``FastSNN`` default
(gathers when at most a quarter of the FC inputs fired, else dense).
All four share one set of weights. Two weight settings: "fresh" (default init, as in the
reference script: deeper layers hardly fire) and "active" (weights scaled so every layer fires,
like a trained net). Rounds are interleaved and the median per method is printed, so machine
load hits all methods alike; wall time and process CPU time are both printed (CPU time is the
steadier figure on a loaded machine; on 2 threads it counts both threads). Outputs are checked equal over a long sequence (mismatches counted).
Run: python bench/snn_step.py [--steps 200] [--rounds 7] [--check-steps 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from _snn_reference import reference_net
from spikingjelly.activation_based import functional, neuron

from microexp.models.snn import PaperSNN
from microexp.models.snn_infer import FastSNN


def make_model(kind: str) -> PaperSNN:
    torch.manual_seed(0)
    m = PaperSNN().eval()
    if kind == "active":
        with torch.no_grad():
            for bn in (m.net[1], m.net[5]):
                bn.running_mean.uniform_(-0.2, 0.2)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 2.0)
                bn.bias.uniform_(0.0, 0.5)
            for i in (0, 4, 10, 13):
                m.net[i].weight.mul_(5.0)
    return m


def firing(model: PaperSNN, xs: torch.Tensor) -> list[float]:
    rates: list[float] = []
    hooks = [
        mod.register_forward_hook(lambda _m, _i, o: rates.append(float(o.mean())))
        for mod in model.net
        if isinstance(mod, neuron.BaseNode)
    ]
    with torch.no_grad():
        model(xs)
    for h in hooks:
        h.remove()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--check-steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 1, input 2x64x64")

    g = torch.Generator().manual_seed(1)
    for kind, density in (("fresh", 0.05), ("active", 0.10)):
        bench_kind(kind, density, args, g)


def bench_kind(kind: str, density: float, args: argparse.Namespace, g: torch.Generator) -> None:
    model = make_model(kind)
    ref = reference_net(step_mode="s").eval()
    ref.load_state_dict(model.net.state_dict())
    n = max(args.check_steps, args.steps)
    xs = (torch.rand(n, 1, 2, 64, 64, generator=g) < density).float()
    if kind == "active":
        xs = xs * torch.randint(1, 4, xs.shape, generator=g)
    dense = FastSNN.from_trained(model, sparse_fc=False)
    sparse = FastSNN.from_trained(model, sparse_fc=True)
    auto = FastSNN.from_trained(model)  # gather when <= 1/4 of the FC inputs fired

    # equality over a long sequence (reference in single-step mode, state kept)
    with torch.no_grad():
        functional.reset_net(ref)
        expected = torch.stack([ref(x) for x in xs[: args.check_steps]])
    rates = firing(model, xs[: min(200, args.check_steps)])
    print(f"\n[{kind} weights, {density:.0%} active input pixels] firing per PLIF layer: "
          + ", ".join(f"{r:.3f}" for r in rates))  # fmt: skip
    for name, fast in (
        ("FastSNN dense", dense),
        ("FastSNN gather", sparse),
        ("FastSNN auto", auto),
    ):
        got = fast.run(xs[: args.check_steps])
        bad = int((got != expected).any(-1).sum())
        print(f"  {name}: {bad} of {args.check_steps} steps differ from spikingjelly "
              f"(max |diff| {float((got - expected).abs().max()):.3g})")  # fmt: skip

    def timed(
        step: Callable[[torch.Tensor], torch.Tensor], reset: Callable[[], None]
    ) -> tuple[float, float]:
        reset()
        t, c = time.perf_counter(), time.process_time()
        for x in xs[: args.steps]:
            step(x)
        scale = 1e3 / args.steps
        return (time.perf_counter() - t) * scale, (time.process_time() - c) * scale

    def ref_step(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out: torch.Tensor = ref(x)
        return out

    def ours_step(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.step(x)

    methods: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[], None]]] = {
        "(a) spikingjelly naive (reference)": (ref_step, lambda: functional.reset_net(ref)),
        "(b) PaperSNN.step": (ours_step, model.reset),
        "(c) FastSNN dense FC": (dense.step, dense.reset),
        "(d) FastSNN gather FC": (sparse.step, sparse.reset),
        "(e) FastSNN auto (default)": (auto.step, auto.reset),
    }
    for step, reset in methods.values():  # warm-up
        reset()
        for x in xs[:20]:
            step(x)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in methods}
    for _ in range(args.rounds):
        for k, (step, reset) in methods.items():
            times[k].append(timed(step, reset))
    ref_key = "(a) spikingjelly naive (reference)"
    base = statistics.median(w for w, _ in times[ref_key])
    base_cpu = statistics.median(c for _, c in times[ref_key])
    print(
        "  method                               wall ms/step (median, min)    CPU ms/step (median)"
    )
    for k, ts in times.items():
        wall = statistics.median(w for w, _ in ts)
        cpu = statistics.median(c for _, c in ts)
        print(f"  {k:36s} {wall:7.3f} ({min(w for w, _ in ts):.3f}) x{base / wall:5.2f}   "
              f"{cpu:7.3f} x{base_cpu / cpu:5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
