"""A TorchScript-able single-step PaperSNN with its membrane state inside, for deployment.

:class:`SNNStepModule` holds a trained :class:`~microexp.models.snn.PaperSNN`'s eval-mode weights
as buffers and runs one slice per ``forward`` with the same operations as spikingjelly's
single-step path (conv → eval BatchNorm → PLIF charge ``h = v + (x − v)·q`` with
``decay_input``, ``h = v − v·q + x`` without, q = sigmoid(w) → spike ``h ≥ θ`` → hard reset to
0 → …, voting = mean over each class's neurons). ``reset()`` is
exported, so a deployed program needs only ``torch.jit.load(path)``, then ``m.reset()`` and
``m(x)`` per slice (``x`` ``[N, 2, S, S]`` float32 counts). The class list and the stream
settings travel in the file's ``extra_files`` (``meta.json``).
"""

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from spikingjelly.activation_based import neuron
from torch import nn

from microexp.errors import OutputExistsError

__all__ = ["SNNStepModule", "export_torchscript", "load_torchscript"]


def _node_terms(node: nn.Module) -> tuple[torch.Tensor, float, bool]:
    """``(q, threshold, decay_input)``; q = 1/τ (NaN for IF: no leak, h = v + x)."""
    if getattr(node, "v_reset", None) != 0.0:
        raise ValueError(
            f"export needs hard reset to 0, got v_reset={getattr(node, 'v_reset', None)!r}"
        )
    threshold = float(node.v_threshold)  # type: ignore[arg-type]
    decay_input = bool(getattr(node, "decay_input", True))
    if isinstance(node, neuron.ParametricLIFNode):
        return node.w.detach().float().sigmoid().reshape(1).clone(), threshold, decay_input
    if isinstance(node, neuron.LIFNode):
        return torch.tensor([1.0 / float(node.tau)]), threshold, decay_input
    if isinstance(node, neuron.IFNode):
        return torch.tensor([float("nan")]), threshold, True  # NaN marks "no leak"
    raise ValueError(f"export does not support neuron type {type(node).__name__}")


class SNNStepModule(nn.Module):
    """Single-step PaperSNN with internal state (TorchScript-able)."""

    conv1_w: torch.Tensor
    conv2_w: torch.Tensor
    bn1_mean: torch.Tensor
    bn1_var: torch.Tensor
    bn1_w: torch.Tensor
    bn1_b: torch.Tensor
    bn2_mean: torch.Tensor
    bn2_var: torch.Tensor
    bn2_w: torch.Tensor
    bn2_b: torch.Tensor
    fc1_w: torch.Tensor
    fc2_w: torch.Tensor
    q: torch.Tensor
    thresholds: torch.Tensor
    decay_input: torch.Tensor

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        net: Any = model.net
        conv1, bn1, n1, _, conv2, bn2, n2, _, _, _, fc1, n3, _, fc2, n4, vote = list(net)
        self.register_buffer("conv1_w", conv1.weight.detach().float().clone())
        self.register_buffer("conv2_w", conv2.weight.detach().float().clone())
        for i, bn in ((1, bn1), (2, bn2)):
            self.register_buffer(f"bn{i}_mean", bn.running_mean.detach().float().clone())
            self.register_buffer(f"bn{i}_var", bn.running_var.detach().float().clone())
            self.register_buffer(f"bn{i}_w", bn.weight.detach().float().clone())
            self.register_buffer(f"bn{i}_b", bn.bias.detach().float().clone())
        self.eps1 = float(bn1.eps)
        self.eps2 = float(bn2.eps)
        self.register_buffer("fc1_w", fc1.weight.detach().float().clone())
        self.register_buffer("fc2_w", fc2.weight.detach().float().clone())
        qs, ths, decays = zip(*(_node_terms(n) for n in (n1, n2, n3, n4)), strict=True)
        self.register_buffer("q", torch.cat(list(qs)))
        self.register_buffer("thresholds", torch.tensor([float(t) for t in ths]))
        self.register_buffer("decay_input", torch.tensor(list(decays), dtype=torch.bool))
        self.votes = int(vote.voting_size)
        self.num_classes = int(model.num_classes)  # type: ignore[arg-type]
        self.v0 = torch.zeros(0)
        self.v1 = torch.zeros(0)
        self.v2 = torch.zeros(0)
        self.v3 = torch.zeros(0)

    @torch.jit.export
    def reset(self) -> None:
        self.v0 = torch.zeros(0)
        self.v1 = torch.zeros(0)
        self.v2 = torch.zeros(0)
        self.v3 = torch.zeros(0)

    def _fire(self, x: torch.Tensor, v: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if v.shape != x.shape:
            v = torch.zeros_like(x)
        q = self.q[i]
        if bool(torch.isnan(q)):
            h = x + v
        elif bool(self.decay_input[i]):
            h = v + (x - v) * q
        else:
            h = v - v * q + x
        spike = (h >= self.thresholds[i]).to(torch.float32)
        return spike, h * (1.0 - spike)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        a = F.conv2d(x, self.conv1_w, None, 1, 1)
        a = F.batch_norm(
            a, self.bn1_mean, self.bn1_var, self.bn1_w, self.bn1_b, False, 0.0, self.eps1
        )
        s, self.v0 = self._fire(a, self.v0, 0)
        s = F.max_pool2d(s, 2)
        a = F.conv2d(s, self.conv2_w, None, 1, 1)
        a = F.batch_norm(
            a, self.bn2_mean, self.bn2_var, self.bn2_w, self.bn2_b, False, 0.0, self.eps2
        )
        s, self.v1 = self._fire(a, self.v1, 1)
        s = F.max_pool2d(s, 2).flatten(1)
        s, self.v2 = self._fire(F.linear(s, self.fc1_w), self.v2, 2)
        s, self.v3 = self._fire(F.linear(s, self.fc2_w), self.v3, 3)
        return F.avg_pool1d(s.unsqueeze(1), self.votes, self.votes).squeeze(1)


def export_torchscript(
    checkpoint: str | Path,
    path: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the checkpoint's model as a scripted :class:`SNNStepModule` to ``path``."""
    from microexp.stream.predictor import load_checkpoint_model

    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out} exists (pass overwrite=True to replace it)")
    model, classes, config = load_checkpoint_model(checkpoint)
    scripted = torch.jit.script(SNNStepModule(model).eval())
    meta = json.dumps(
        {"classes": list(classes), "config": config, "source": str(checkpoint)}, default=str
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(scripted, str(out), _extra_files={"meta.json": meta})
    return out


def load_torchscript(path: str | Path) -> tuple[torch.jit.ScriptModule, dict[str, Any]]:
    """The scripted step module and its metadata (``classes``, ``config``)."""
    extra = {"meta.json": ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    return module, json.loads(extra["meta.json"])
