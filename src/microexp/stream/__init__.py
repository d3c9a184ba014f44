"""Streaming inference: event packets in, per-slice AU predictions out (stateful, one step per slice).

- :class:`StreamingEngine` (:mod:`.engine`): slicing (:mod:`.slicer`), face crop count frames
  (:mod:`.framer`), one model step per slice, scores / hysteresis / emotion (:mod:`.decisions`).
- :class:`Predictor` (:mod:`.predictor`): a trained SNN from its checkpoint alone.
- :func:`export_torchscript` (:mod:`.export`): a deployable single-step TorchScript module.

Only numpy is imported here eagerly; the torch-backed parts load on first use.
"""

from __future__ import annotations

from typing import Any

from microexp.stream.config import StreamConfig, load_stream_config
from microexp.stream.decisions import HysteresisDetector, ScoreWindow, top_k
from microexp.stream.engine import SliceModel, SlicePrediction, StreamingEngine
from microexp.stream.framer import Box, CropFramer, frame_events
from microexp.stream.slicer import EventSlicer, SlicePart, SliceSpan

__all__ = [
    "Box",
    "CropFramer",
    "EventSlicer",
    "HysteresisDetector",
    "Predictor",
    "ScoreWindow",
    "SliceModel",
    "SlicePart",
    "SlicePrediction",
    "SliceSpan",
    "StreamConfig",
    "StreamingEngine",
    "export_torchscript",
    "frame_events",
    "load_stream_config",
    "top_k",
]


def __getattr__(name: str) -> Any:
    if name == "Predictor":
        from microexp.stream.predictor import Predictor

        return Predictor
    if name == "export_torchscript":
        from microexp.stream.export import export_torchscript

        return export_torchscript
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
