"""Helpers of the stream tests: a seeded SNN that fires, its checkpoint, and synthetic event
streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from microexp.events.types import EventArray, make_events
from microexp.models.snn import PaperSNN

LABELS = ("AU4", "AU6", "AU12", "AU15", "AU45")

SNN_MODEL_CONFIG = {
    "name": "snn",
    "num_classes": len(LABELS),
    "in_channels": 2,
    "size": 64,
    "neuron": "plif",
    "dropout": 0.2,
}
"""The model config of :func:`lively_snn` as a training checkpoint records it."""


def save_snn_checkpoint(model: PaperSNN, path: Path, **config: Any) -> Path:
    """``model`` saved as a training checkpoint (model config, classes, weights); ``config`` adds
    top-level config keys (e.g. ``slice_us``)."""
    model_config = {**SNN_MODEL_CONFIG, "num_classes": model.num_classes}
    if not model.decay_input:
        model_config["decay_input"] = False
    torch.save(
        {
            "config": {"model": model_config, **config},
            "classes": list(LABELS),
            "model_state": model.state_dict(),
        },
        path,
    )
    return path


def lively_snn(
    *, num_classes: int = len(LABELS), seed: int = 0, decay_input: bool = True
) -> PaperSNN:
    """A seeded PaperSNN whose layers all fire (~10 %) on sparse count frames.

    Freshly initialised weights let the activity die out after the first layer; each layer's
    weights are scaled (deterministically) until its neurons fire on a seeded calibration input,
    and BatchNorm gets non-trivial running statistics, so that equality tests compare spikes,
    not zeros.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = PaperSNN(num_classes=num_classes, decay_input=decay_input)
    net = model.net
    with torch.no_grad():
        for bn in (net[1], net[5]):
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=gen) * 0.4 - 0.2)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.weight.copy_(torch.rand(bn.num_features, generator=gen) * 0.7 + 0.8)
            bn.bias.copy_(torch.rand(bn.num_features, generator=gen) * 0.3)
    model.eval()
    x = (torch.rand(4, 1, 2, 64, 64, generator=gen) < 0.1).float() * 3
    rate: dict[int, float] = {}
    hooks = [
        net[n].register_forward_hook(
            lambda _m, _i, out, n=n: rate.__setitem__(n, float(out.mean()))
        )
        for n in (2, 6, 11, 14)
    ]
    with torch.no_grad():
        for w, n in ((0, 2), (4, 6), (10, 11), (13, 14)):
            for _ in range(40):
                model(x)
                if rate[n] >= 0.1:
                    break
                net[w].weight.mul_(2.0)
    for h in hooks:
        h.remove()
    return model


def random_events(
    *,
    n: int,
    width: int,
    height: int,
    t0_us: int,
    duration_us: int,
    seed: int,
    box: tuple[int, int, int, int] | None = None,
) -> EventArray:
    """``n`` sorted events, uniform in time, mostly inside ``box`` (else over the sensor)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(t0_us, t0_us + duration_us, size=n))
    if box is None:
        x = rng.integers(0, width, size=n)
        y = rng.integers(0, height, size=n)
    else:
        bx, by, bw, bh = box
        x = np.clip(rng.normal(bx + bw / 2, bw / 3, size=n), 0, width - 1).astype(np.int64)
        y = np.clip(rng.normal(by + bh / 2, bh / 3, size=n), 0, height - 1).astype(np.int64)
    return make_events(x=x, y=y, t=t, p=rng.integers(0, 2, size=n))


def split_random(events: EventArray, *, seed: int, max_parts: int = 50) -> list[EventArray]:
    """Cut ``events`` into packets of random sizes (empty packets included)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, events.shape[0] + 1, size=rng.integers(1, max_parts)))
    return np.split(events, cuts)
