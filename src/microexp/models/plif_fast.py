"""A leaner multi-step PLIF for training: same neuron, same numbers, fewer passes over memory.

:class:`FastPLIFNode` *is* spikingjelly's ``ParametricLIFNode`` (subclass, same parameter ``w``,
same state, same single-step path, same state dict); only its multi-step forward — the training
path — runs through :class:`PLIFMultiStep`, which

- writes every step's potential and spikes into preallocated ``[T, ...]`` tensors instead of
  stacking lists at the end (the stacks were ~20 % of a training step here),
- computes the charge with the very same float ops as spikingjelly (so forward spikes are
  identical): ``h = v + (x − v)·q`` with ``decay_input=True``, ``h = (v − v·q) + x`` with
  ``decay_input=False`` (the two charge equations, see :mod:`microexp.models.snn`),
- in backward, evaluates the ATan surrogate and the reset masks once over the whole sequence and
  keeps only the two-op recursion ``gh_t = A_t + c_t·(1 − s_t)``, ``c_{t−1} = gh_t·(1 − q)``
  per step (hard reset to 0 with ``detach_reset=True``); ∂h/∂x is q (decay_input) or 1, and
  ∂h/∂q is ``x − v`` (decay_input) or ``−v``.

Other configurations (soft reset, other surrogates, ``store_v_seq``) fall back to spikingjelly.
Gradients agree with spikingjelly's to float rounding (tested).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from spikingjelly.activation_based import neuron, surrogate

__all__ = ["FastPLIFNode", "PLIFMultiStep"]


class PLIFMultiStep(torch.autograd.Function):
    """``(spikes [T, ...], v_last)`` of a hard-reset PLIF layer; see the module docstring."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        v0: torch.Tensor,
        w: torch.Tensor,
        threshold: float,
        alpha: float,
        decay_input: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = w.detach().float().sigmoid()
        h = torch.empty_like(x)
        s = torch.empty_like(x)
        keep = torch.empty_like(x[0])
        v = v0
        for t in range(x.shape[0]):
            if decay_input:
                ht = torch.sub(x[t], v, out=h[t]).mul_(q).add_(v)  # = v + (x − v)·q
            else:
                ht = torch.mul(v, q, out=h[t])
                ht = torch.sub(v, ht, out=h[t]).add_(x[t])  # = (v − v·q) + x
            torch.ge(ht, threshold, out=s[t])
            torch.lt(ht, threshold, out=keep)
            v = ht * keep  # hard reset to 0 (exact: ×1 or ×0)
        ctx.save_for_backward(x, v0, q, h, s)
        ctx.threshold, ctx.alpha = threshold, alpha
        ctx.decay_input = decay_input
        ctx.w_dtype = w.dtype
        return s, v

    @staticmethod
    def backward(
        ctx: Any, gs: torch.Tensor | None, gv: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, None, None, None]:
        x, v0, q, h, s = ctx.saved_tensors
        alpha, decay_input = ctx.alpha, ctx.decay_input
        # the one sequence-sized temporary: ATan surrogate derivative, then A = ∂L/∂s · sg,
        # then (in place, step by step) ∂L/∂h, finally ∂L/∂x
        a = (
            (h - ctx.threshold)
            .mul_(math.pi / 2 * alpha)
            .square_()
            .add_(1)
            .reciprocal_()
            .mul_(alpha / 2)
        )
        if gs is not None:
            a.mul_(gs)
        else:
            a.zero_()
        carry = gv if gv is not None else torch.zeros_like(v0)
        decay = 1 - q
        gq = torch.zeros((), dtype=torch.float32, device=h.device)
        for t in range(h.shape[0] - 1, -1, -1):
            gh = a[t].addcmul_(carry, torch.sub(1.0, s[t]))  # A_t + c_t·(1 − s_t)
            v_prev = v0 if t == 0 else h[t - 1] * torch.sub(1.0, s[t - 1])
            if decay_input:
                gq += (gh * (x[t] - v_prev)).sum()
            else:
                gq -= (gh * v_prev).sum()
            carry = gh * decay
        gw = (gq * q * (1 - q)).to(ctx.w_dtype)
        return (a.mul_(q) if decay_input else a), carry, gw, None, None, None


class FastPLIFNode(neuron.ParametricLIFNode):
    """spikingjelly's PLIF with :class:`PLIFMultiStep` as its multi-step path where it applies."""

    def _fast_ok(self, x_seq: torch.Tensor) -> bool:
        return (
            self.v_reset == 0.0
            and self.detach_reset
            and not self.store_v_seq
            and type(self.surrogate_function) is surrogate.ATan
            and getattr(self, "_neuron_precision", None) is None
            and x_seq.dtype == torch.float32
        )

    def multi_step_forward(self, x_seq: torch.Tensor, *args: torch.Tensor, **kwargs: object) -> Any:
        if args or kwargs or not self._fast_ok(x_seq):
            return super().multi_step_forward(x_seq, *args, **kwargs)
        states = self.materialize_states((x_seq,), tuple(self._memories.values()), "m")
        v0 = states[0]
        assert isinstance(v0, torch.Tensor)
        alpha = float(self.surrogate_function.alpha)
        spikes, v = PLIFMultiStep.apply(
            x_seq, v0, self.w, float(self.v_threshold), alpha, bool(self.decay_input)
        )
        self._memories["v"] = v
        return spikes
