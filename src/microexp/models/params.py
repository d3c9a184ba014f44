"""Parameter counts in one unit: Mi = 2^20 parameters (the unit of the paper's "M").

The paper's "4.11M" for its SNN is 4,311,616 conv/linear weights / 2^20 = 4.11 (in 10^6 it would
read 4.31 M), so the paper's "M" is 2^20 (docs/references.md#param-unit). Every count this
repository prints, tabulates or tests against a paper figure is in that unit, written "Mi".
"""

from __future__ import annotations

from torch import nn

__all__ = ["MEBI", "format_params", "mebi", "parameter_total"]

MEBI = 1 << 20
"""One Mi: 2^20 parameters."""


def mebi(n: int) -> float:
    """``n`` parameters in Mi (2^20)."""
    return n / MEBI


def format_params(n: int, *, digits: int = 2) -> str:
    """``n`` parameters as ``"4.11 Mi"``."""
    return f"{mebi(n):.{digits}f} Mi"


def parameter_total(model: nn.Module) -> int:
    """All parameters of ``model`` (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())
