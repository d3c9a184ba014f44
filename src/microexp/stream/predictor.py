"""The model side of the engine: a trained SNN stepped one slice at a time, from its checkpoint alone.

:class:`Predictor` wraps a :class:`~microexp.models.snn.PaperSNN`; ``step`` takes one count frame
``[2, S, S]`` (numpy) and returns the voting layer's firing rates ``[K]`` with the membrane state
kept; ``reset`` forgets it. By default it steps through the fast inference path
(:class:`~microexp.models.snn_infer.FastSNN`, dense first FC layer so it equals the multi-step
model); ``backend="module"`` steps the spikingjelly module itself, ``backend="torchscript"`` the
exported :class:`~microexp.stream.export.SNNStepModule`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

from microexp.errors import ConfigError
from microexp.models.snn import PaperSNN

__all__ = ["Backend", "Predictor", "load_checkpoint_model"]

log = logging.getLogger(__name__)

Backend = Literal["fast", "fast_sparse", "module", "torchscript"]


def load_checkpoint_model(path: str | Path) -> tuple[PaperSNN, tuple[str, ...], dict[str, Any]]:
    """``(model in eval mode, classes, resolved config)`` rebuilt from a checkpoint file alone."""
    from microexp.models import registry

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: checkpoint not found")
    loaded = registry.load_checkpoint(p)
    model, classes, config = _unpack(loaded, p)
    if not isinstance(model, PaperSNN):
        raise ConfigError(
            f"{p}: streaming needs the paper's SNN, the checkpoint holds {type(model).__name__}"
        )
    model.eval()
    return model, tuple(classes), dict(config)


def _unpack(loaded: Any, p: Path) -> tuple[Any, Sequence[str], Mapping[str, Any]]:
    if isinstance(loaded, tuple) and len(loaded) == 3:
        return loaded  # (model, classes, config)
    model = getattr(loaded, "model", None)
    classes = getattr(loaded, "classes", None)
    config = getattr(loaded, "config", None)
    if model is None or classes is None:
        raise ConfigError(
            f"{p}: cannot read model and classes from the checkpoint ({type(loaded).__name__})"
        )
    if config is not None and not isinstance(config, Mapping):
        import dataclasses

        config = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else vars(config)
    return model, classes, config or {}


class Predictor:
    """One trained model, stepped slice by slice (see module docstring)."""

    def __init__(
        self,
        model: PaperSNN,
        *,
        classes: Sequence[str],
        config: Mapping[str, Any] | None = None,
        backend: Backend = "fast",
    ) -> None:
        if len(classes) != model.num_classes:
            raise ConfigError(
                f"{len(classes)} class names for a model with {model.num_classes} outputs"
            )
        self.model = model.eval()
        self._classes = tuple(classes)
        self.config: dict[str, Any] = dict(config or {})
        self.backend = backend
        self.size = int(model.size)
        self._stepper: Any
        if backend in ("fast", "fast_sparse"):
            from microexp.models.snn_infer import FastSNN

            self._stepper = FastSNN.from_trained(model, sparse_fc=backend == "fast_sparse")
        elif backend == "module":
            self._stepper = model
        elif backend == "torchscript":
            from microexp.stream.export import SNNStepModule

            self._stepper = torch.jit.script(SNNStepModule(model).eval())
        else:
            raise ConfigError(f"unknown predictor backend {backend!r}")
        self.reset()

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, backend: Backend = "fast") -> Predictor:
        model, classes, config = load_checkpoint_model(path)
        log.info("loaded %s: %d classes, backend %s", path, len(classes), backend)
        return cls(model, classes=classes, config=config, backend=backend)

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes

    def reset(self) -> None:
        self._stepper.reset()

    @torch.inference_mode()
    def step(self, frame: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Firing rates ``[K]`` for one count frame ``[2, S, S]`` (state kept)."""
        x = torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)).unsqueeze(0)
        out = self._stepper.step(x) if hasattr(self._stepper, "step") else self._stepper(x)
        return out[0].numpy().astype(np.float32, copy=False)

    @torch.inference_mode()
    def run_clip(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Offline reference: the multi-step model's rates ``[T, K]`` for frames ``[T, 2, S, S]``."""
        x = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32)).unsqueeze(1)
        out: torch.Tensor = self.model(x)
        return out[:, 0].numpy()
