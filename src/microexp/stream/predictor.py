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


_STATE_KEYS = ("model_state", "state_dict", "model")


def load_checkpoint_model(path: str | Path) -> tuple[PaperSNN, tuple[str, ...], dict[str, Any]]:
    """``(model in eval mode, classes, resolved config)`` rebuilt from a checkpoint file alone.

    A checkpoint is a dict (``torch.save``) holding the resolved config (``config``; the model's
    part under ``config["model"]``, or ``model_config`` at the top), the class list (``classes``)
    and the model's state dict (``model_state``; ``state_dict`` is accepted too). The model is
    rebuilt with :func:`microexp.models.registry.build_model`.
    """
    from microexp.models import registry

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: checkpoint not found")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds on corrupt or foreign files
        raise ConfigError(f"{p}: cannot read checkpoint: {err}") from err
    if not isinstance(ckpt, Mapping):
        raise ConfigError(f"{p}: a checkpoint must be a dict, got {type(ckpt).__name__}")
    config = dict(ckpt.get("config") or {})
    model_cfg = ckpt.get("model_config") or config.get("model")
    if not isinstance(model_cfg, Mapping):
        raise ConfigError(f"{p}: checkpoint has no model config (config.model or model_config)")
    classes = ckpt.get("classes") or config.get("classes")
    if not classes:
        raise ConfigError(f"{p}: checkpoint has no class list (classes)")
    state = next((ckpt[k] for k in _STATE_KEYS if isinstance(ckpt.get(k), Mapping)), None)
    if state is None:
        raise ConfigError(f"{p}: checkpoint has no model state (one of {', '.join(_STATE_KEYS)})")
    model = registry.build_model(model_cfg, where=f"{p}: model config")
    if not isinstance(model, PaperSNN):
        raise ConfigError(
            f"{p}: streaming needs the paper's SNN, the checkpoint holds {type(model).__name__}"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ConfigError(f"{p}: model state does not fit the model config: {err}") from err
    if len(classes) != model.num_classes:
        raise ConfigError(
            f"{p}: {len(classes)} classes for a model with {model.num_classes} outputs"
        )
    model.eval()
    config.setdefault("model", dict(model_cfg))
    return model, tuple(str(c) for c in classes), config


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
