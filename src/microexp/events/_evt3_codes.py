"""EVT 3.0 word types and time constants shared by the decoder and the encoder.

Values from Prophesee's "EVT 3.0 Format" documentation and ros-event-camera/event_camera_codecs
(``include/event_camera_codecs/evt3_types.h``); see :mod:`microexp.events.evt3` for the table.
"""

from __future__ import annotations

__all__ = [
    "ADDR_X",
    "ADDR_Y",
    "CONTINUED_4",
    "CONTINUED_12",
    "EXT_TRIGGER",
    "HIGH_JITTER",
    "KNOWN_CODES",
    "OTHERS",
    "PADDING",
    "TIME_HIGH",
    "TIME_LOW",
    "VECT_8",
    "VECT_12",
    "VECT_BASE_X",
    "WRAP_US",
]

ADDR_Y, ADDR_X, VECT_BASE_X, VECT_12, VECT_8 = 0x0, 0x2, 0x3, 0x4, 0x5
TIME_LOW, CONTINUED_4, TIME_HIGH, PADDING, EXT_TRIGGER = 0x6, 0x7, 0x8, 0x9, 0xA
OTHERS, CONTINUED_12 = 0xE, 0xF
KNOWN_CODES: tuple[int, ...] = (ADDR_Y, ADDR_X, VECT_BASE_X, VECT_12, VECT_8, TIME_LOW)
KNOWN_CODES += (CONTINUED_4, TIME_HIGH, PADDING, EXT_TRIGGER, OTHERS, CONTINUED_12)

WRAP_US = 1 << 24
"""The EVT 3.0 time (TIME_HIGH:TIME_LOW, 24 bits of µs) wraps after this many µs."""
HIGH_JITTER = 10
"""TIME_HIGH may step back this much without a wrap (rule of event_camera_codecs)."""
