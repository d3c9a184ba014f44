"""Fast single-step inference for a trained :class:`~microexp.models.snn.PaperSNN` (CPU streaming).

:meth:`FastSNN.from_trained` copies the eval-mode weights of a trained model into plain tensors;
:meth:`FastSNN.step` then runs one 33 ms slice with kept membrane state, :meth:`FastSNN.reset`
forgets it. What makes it fast at batch 1 (figures in ``bench/snn_step.py``):

- no module dispatch, step-mode bookkeeping or autograd: a straight line of tensor ops under
  ``torch.inference_mode``, with preallocated state;
- BatchNorm kept as PyTorch's own eval kernel (one fused multiply-add per element: folding it
  into the conv weights would round differently, and a potential at threshold could then fire
  differently), PLIF as in-place ops with ``sigmoid(w)`` precomputed — every value is computed by
  the same float32 operations as spikingjelly's CPU path, so the conv layers give identical spikes;
- the first FC layer's input is binary spikes, usually sparse: instead of reading the whole
  8192×512 weight matrix (16 MB) per step, the rows of the active inputs are gathered and summed
  (``index_select`` + ``sum``). A sum in another order can differ from the dense GEMM in the last
  bit, so a membrane potential sitting exactly at threshold could, very rarely, fire differently;
  ``sparse_fc=False`` uses the dense product. ``bench/snn_step.py`` counts mismatches.

Only PLIF, LIF and IF neurons with hard reset to 0 are supported (the paper's configuration).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from spikingjelly.activation_based import neuron
from torch import nn

from microexp.models.snn import PaperSNN

__all__ = ["FastSNN"]


def _decay(node: nn.Module) -> tuple[torch.Tensor | None, float]:
    """``(q, threshold)`` of a neuron: q = 1/τ (None for IF, no leak)."""
    if getattr(node, "v_reset", None) != 0.0:
        raise ValueError(f"FastSNN needs hard reset to 0, got v_reset={node.v_reset!r}")
    if not getattr(node, "decay_input", True):
        raise ValueError("FastSNN needs decay_input=True")
    threshold = float(node.v_threshold)  # type: ignore[arg-type]
    if isinstance(node, neuron.ParametricLIFNode):
        return node.w.detach().float().sigmoid().clone(), threshold
    if isinstance(node, neuron.LIFNode):
        return torch.tensor(1.0 / float(node.tau)), threshold
    if isinstance(node, neuron.IFNode):
        return None, threshold
    raise ValueError(f"FastSNN does not support neuron type {type(node).__name__}")


_BN = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]


def _bn_terms(bn: nn.BatchNorm2d) -> _BN:
    """Running mean, running var, γ, β (float32 copies) and ε of an eval BatchNorm."""
    if bn.running_var is None or bn.running_mean is None:
        raise ValueError("FastSNN needs BatchNorm layers with running statistics")

    def copy(t: torch.Tensor) -> torch.Tensor:
        return t.detach().float().clone()

    return copy(bn.running_mean), copy(bn.running_var), copy(bn.weight), copy(bn.bias), bn.eps


def _batch_norm(x: torch.Tensor, bn: _BN) -> torch.Tensor:
    mean, var, weight, bias, eps = bn
    return F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps)


class FastSNN:
    """Inference-only, single-step PaperSNN. Not an ``nn.Module``: weights are frozen copies."""

    def __init__(self, model: PaperSNN, *, sparse_fc: bool = True) -> None:
        layers = list(model.net)  # the fixed layout of PaperSNN.net

        def weight(i: int) -> torch.Tensor:
            w = layers[i].weight
            assert isinstance(w, torch.Tensor)
            return w.detach().float().clone()

        bn1, bn2 = layers[1], layers[5]
        assert isinstance(bn1, nn.BatchNorm2d) and isinstance(bn2, nn.BatchNorm2d)
        self.conv1_w, self.conv2_w = weight(0), weight(4)
        self.bn1, self.bn2 = _bn_terms(bn1), _bn_terms(bn2)
        self.fc1_w = weight(10)  # [H, F]
        self.fc1_wt = self.fc1_w.t().contiguous()  # [F, H]: rows of active inputs are contiguous
        self.fc2_w = weight(13)
        self.nodes = [_decay(layers[i]) for i in (2, 6, 11, 14)]
        self.votes = int(getattr(layers[15], "voting_size", 10))
        self.num_classes = model.num_classes
        self.sparse_fc = sparse_fc
        self._v: list[torch.Tensor | None] = [None, None, None, None]

    @classmethod
    def from_trained(cls, model: PaperSNN, *, sparse_fc: bool = True) -> FastSNN:
        """Copy a trained model's eval-mode weights (BatchNorm running statistics)."""
        return cls(model, sparse_fc=sparse_fc)

    def reset(self) -> None:
        """Forget the membrane state."""
        self._v = [None, None, None, None]

    def _plif(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """One neuron layer in place on ``x`` (its input current); returns the spikes."""
        q, threshold = self.nodes[i]
        v = self._v[i]
        if v is None:
            v = torch.zeros_like(x)
        # spikingjelly: h = v + (x - v)·q ; spike = h ≥ θ ; v = spike·0 + (1 − spike)·h
        h = x if q is None else x.sub_(v).mul_(q)
        h.add_(v)
        spike = h >= threshold
        self._v[i] = h.masked_fill_(spike, 0.0)
        return spike.to(torch.float32)

    @torch.inference_mode()
    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Votes ``[N, K]`` for one slice ``[N, C, H, W]`` (float or uint8 counts)."""
        x = x.float()
        a = F.conv2d(x, self.conv1_w, padding=1)
        a = _batch_norm(a, self.bn1)
        s = F.max_pool2d(self._plif(0, a), 2)
        a = F.conv2d(s, self.conv2_w, padding=1)
        a = _batch_norm(a, self.bn2)
        s = F.max_pool2d(self._plif(1, a), 2).flatten(1)
        if self.sparse_fc and s.shape[0] == 1:
            idx = s[0].nonzero().squeeze(1)
            a = self.fc1_wt.index_select(0, idx).sum(0, keepdim=True)
        else:
            a = F.linear(s, self.fc1_w)
        s = self._plif(2, a)
        a = F.linear(s, self.fc2_w)
        s = self._plif(3, a)
        return s.view(s.shape[0], self.num_classes, self.votes).mean(-1)

    def run(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Votes ``[T, N, K]`` for a whole sequence from a fresh state (state kept afterwards)."""
        self.reset()
        return torch.stack([self.step(x) for x in x_seq])
