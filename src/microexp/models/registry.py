"""Build a model from a plain config dict, so a checkpoint (which stores that dict) rebuilds it.

``{"name": "snn", "num_classes": 21, "in_channels": 2, "size": 64, "neuron": "plif",
"dropout": 0.2}``; ``"c3d"`` takes ``num_classes, in_channels, fc_width, dropout``; ``"sew"``
takes ``num_classes, in_channels, widths, neuron, dropout``; ``"cvae"`` takes ``size,
cond_channels, target_channels, latent, width``. Unknown names or keys raise ConfigError.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from torch import nn

from microexp.errors import ConfigError
from microexp.models.c3d import C3D
from microexp.models.cvae import CVAE
from microexp.models.sew_resnet import SEWResNet
from microexp.models.snn import NEURONS, PaperSNN

__all__ = ["MODELS", "build_model"]

MODELS: dict[str, type[nn.Module]] = {"snn": PaperSNN, "c3d": C3D, "sew": SEWResNet, "cvae": CVAE}


def build_model(config: Mapping[str, Any], *, where: str = "model config") -> nn.Module:
    """A fresh model from ``config`` (``name`` plus constructor keywords; ``neuron`` by name)."""
    kwargs = dict(config)
    name = kwargs.pop("name", None)
    if name not in MODELS:
        raise ConfigError(f"{where}: unknown model name {name!r} (known: {', '.join(MODELS)})")
    cls = MODELS[name]
    if "neuron" in kwargs:
        neuron = kwargs.pop("neuron")
        if neuron not in NEURONS:
            raise ConfigError(f"{where}: unknown neuron {neuron!r} (known: {', '.join(NEURONS)})")
        kwargs["neuron_factory"] = NEURONS[neuron]
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} for model {name!r}")
    return cls(**kwargs)
