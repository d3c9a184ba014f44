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
  (``index_select`` + ``sum``) when few inputs fired (``sparse_fc``, default: at most a quarter).
  A sum in another order can differ from the dense GEMM in the last bit, so a membrane potential
  sitting exactly at threshold could, very rarely, fire differently; ``sparse_fc=False`` always
  uses the dense product. ``bench/snn_step.py`` counts mismatches (none seen so far);
- the conv layers' 2×2 max pool runs on the potential before thresholding (exact, see
  :meth:`FastSNN._conv_layer`) and spike / keep masks are written as float directly.

Only PLIF, LIF and IF neurons with hard reset to 0 are supported (the paper's configuration),
with either charge equation (``decay_input``, see :mod:`microexp.models.snn`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from spikingjelly.activation_based import neuron
from torch import nn

from microexp.models.snn import PaperSNN

__all__ = ["FastSNN"]


def _decay(node: nn.Module) -> tuple[torch.Tensor | None, float, bool]:
    """``(q, threshold, decay_input)`` of a neuron: q = 1/τ (None for IF, no leak)."""
    if getattr(node, "v_reset", None) != 0.0:
        raise ValueError(f"FastSNN needs hard reset to 0, got v_reset={node.v_reset!r}")
    threshold = float(node.v_threshold)  # type: ignore[arg-type]
    decay_input = bool(getattr(node, "decay_input", True))
    if isinstance(node, neuron.ParametricLIFNode):
        return node.w.detach().float().sigmoid().clone(), threshold, decay_input
    if isinstance(node, neuron.LIFNode):
        return torch.tensor(1.0 / float(node.tau)), threshold, decay_input
    if isinstance(node, neuron.IFNode):
        return None, threshold, True
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

    def __init__(self, model: PaperSNN, *, sparse_fc: float = 0.25) -> None:
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
        self.sparse_fc = float(sparse_fc)
        self._v: list[torch.Tensor | None] = [None, None, None, None]
        self._buffers: dict[int, torch.Tensor] = {}

    @classmethod
    def from_trained(cls, model: PaperSNN, *, sparse_fc: float = 0.25) -> FastSNN:
        """Copy a trained model's eval-mode weights (BatchNorm running statistics).

        ``sparse_fc``: at batch 1 the first FC layer gathers the weight rows of the active
        inputs when at most this fraction of them spiked (else the dense product, which is
        cheaper for busy inputs); ``False``/0 always dense, ``True``/1 always gather.
        """
        return cls(model, sparse_fc=sparse_fc)

    def reset(self) -> None:
        """Forget the membrane state."""
        self._v = [None, None, None, None]

    def _charge(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Membrane potential before firing, in place on ``x`` (the layer's input current),
        exactly as spikingjelly computes it: ``h = v + (x − v)·q`` (``decay_input``),
        ``h = (v − v·q) + x`` (without), ``h = v + x`` for IF."""
        q, _, decay_input = self.nodes[i]
        v = self._v[i]
        if v is None:
            v = torch.zeros_like(x)
        if q is None:
            return x.add_(v)
        if decay_input:
            return x.sub_(v).mul_(q).add_(v)
        return x.add_(v - v * q)

    def _fire_and_reset(self, i: int, h: torch.Tensor) -> None:
        """Keep ``v = (1 − spike)·h`` (hard reset to 0) as the layer's state, in place on ``h``.
        ``torch.lt(..., out=float)`` makes the mask as float directly (a bool mask + masked_fill
        costs ~10× more on CPU); multiplying by 1 or 0 is exact, like spikingjelly's formula."""
        keep = torch.lt(h, self.nodes[i][1], out=self._buffer(i, h))
        self._v[i] = h.mul_(keep)

    def _buffer(self, i: int, like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(i)
        if buf is None or buf.shape != like.shape:
            buf = self._buffers[i] = torch.empty_like(like)
        return buf

    def _conv_layer(self, i: int, a: torch.Tensor) -> torch.Tensor:
        """PLIF + 2×2 max pool on a conv layer's BN output; returns the pooled spikes (float).

        max-pooling binary spikes equals thresholding the max-pooled potential (the threshold
        is monotone), so the pool runs on h and only the 4× smaller result is thresholded;
        the pool is four strided maxima (several times faster than max_pool2d here, same values).
        """
        h = self._charge(i, a)
        m = torch.maximum(
            torch.maximum(h[..., 0::2, 0::2], h[..., 0::2, 1::2]),
            torch.maximum(h[..., 1::2, 0::2], h[..., 1::2, 1::2]),
        )
        spikes = torch.ge(m, self.nodes[i][1], out=self._buffer(10 + i, m))
        self._fire_and_reset(i, h)
        return spikes

    def _fc_layer(self, i: int, a: torch.Tensor) -> torch.Tensor:
        h = self._charge(i, a)
        spikes = torch.ge(h, self.nodes[i][1], out=self._buffer(10 + i, h))
        self._fire_and_reset(i, h)
        return spikes

    @torch.inference_mode()
    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Votes ``[N, K]`` for one slice ``[N, C, H, W]`` (float or uint8 counts)."""
        x = x.float()
        a = _batch_norm(F.conv2d(x, self.conv1_w, padding=1), self.bn1)
        s = self._conv_layer(0, a)
        a = _batch_norm(F.conv2d(s, self.conv2_w, padding=1), self.bn2)
        s = self._conv_layer(1, a).flatten(1)
        fc: torch.Tensor | None = None
        if self.sparse_fc > 0 and s.shape[0] == 1:
            idx = s[0].nonzero().squeeze(1)
            if idx.numel() <= self.sparse_fc * s.shape[1]:
                fc = self.fc1_wt.index_select(0, idx).sum(0, keepdim=True)
        if fc is None:
            fc = F.linear(s, self.fc1_w)
        s = self._fc_layer(2, fc)
        s = self._fc_layer(3, F.linear(s, self.fc2_w))
        return s.view(s.shape[0], self.num_classes, self.votes).mean(-1)

    def run(self, x_seq: torch.Tensor) -> torch.Tensor:
        """Votes ``[T, N, K]`` for a whole sequence from a fresh state (state kept afterwards)."""
        self.reset()
        return torch.stack([self.step(x) for x in x_seq])
