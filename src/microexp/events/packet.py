"""One entry point for every ``EventPacket.encoding``: ``make_packet_decoder``.

Every decoder is long-lived (one per stream), takes ``decode(data, *, time_base=0)`` with the
packet's ``events`` bytes and ``time_base``, and is ``reset()`` on a seek or stream restart.
The decoder returned here also checks that every event lies inside the packet geometry.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from microexp.errors import DecodeError
from microexp.events.evt2 import Evt2Decoder
from microexp.events.evt3 import Evt3Decoder
from microexp.events.libcaer import LibcaerCmpDecoder, LibcaerDecoder
from microexp.events.mono import MonoDecoder
from microexp.events.types import DecodedEvents

__all__ = [
    "ENCODINGS",
    "OutsideSensorError",
    "PacketDecoder",
    "ValidatingDecoder",
    "make_packet_decoder",
]


class OutsideSensorError(DecodeError):
    """A decoded event lies outside the packet's ``width`` x ``height``."""


@runtime_checkable
class PacketDecoder(Protocol):
    """A stateful decoder of one encoded event stream."""

    def decode(
        self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0
    ) -> DecodedEvents: ...

    def reset(self) -> None: ...


_FACTORIES: dict[str, type[PacketDecoder]] = {
    "evt3": Evt3Decoder,
    "evt2": Evt2Decoder,
    "libcaer_cmp": LibcaerCmpDecoder,
    "libcaer": LibcaerDecoder,
    "mono": MonoDecoder,
}
ENCODINGS: tuple[str, ...] = tuple(_FACTORIES)
"""The ``EventPacket.encoding`` values that :func:`make_packet_decoder` accepts."""


class ValidatingDecoder:
    """Wraps a decoder and raises DecodeError when an event falls outside width x height."""

    def __init__(self, inner: PacketDecoder, *, encoding: str, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise DecodeError(f"{encoding}: invalid sensor geometry {width}x{height}")
        self.inner = inner
        self.encoding = encoding
        self.width = width
        self.height = height

    def reset(self) -> None:
        """Reset the wrapped decoder."""
        self.inner.reset()

    def decode(self, data: bytes | memoryview | np.ndarray, *, time_base: int = 0) -> DecodedEvents:
        """Decode, then check coordinates against the geometry."""
        out = self.inner.decode(data, time_base=time_base)
        ev = out.events
        if ev.size:
            x_max = int(ev["x"].max())
            if x_max >= self.width:
                raise OutsideSensorError(
                    f"{self.encoding}: event x={x_max} outside the {self.width}x{self.height} "
                    f"sensor (event {int(np.argmax(ev['x']))} of the packet)"
                )
            y_max = int(ev["y"].max())
            if y_max >= self.height:
                raise OutsideSensorError(
                    f"{self.encoding}: event y={y_max} outside the {self.width}x{self.height} "
                    f"sensor (event {int(np.argmax(ev['y']))} of the packet)"
                )
        return out


def make_packet_decoder(encoding: str, *, width: int, height: int) -> ValidatingDecoder:
    """A long-lived, geometry-checking decoder for ``EventPacket.encoding``."""
    try:
        factory = _FACTORIES[encoding]
    except KeyError:
        raise DecodeError(
            f"unknown event encoding {encoding!r} (known: {', '.join(ENCODINGS)})"
        ) from None
    return ValidatingDecoder(factory(), encoding=encoding, width=width, height=height)
