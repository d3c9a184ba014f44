"""Event types, decoders/encoders for every wire format, slicing and representations."""

from microexp.events.aedat4 import Aedat4Recording, read_aedat4, write_aedat4
from microexp.events.dv_event_array import (
    EventArrayMessage,
    decode_event_array_cdr,
    encode_event_array_cdr,
)
from microexp.events.evt2 import Evt2Decoder, Evt2Encoder
from microexp.events.evt3 import WRAP_US, Evt3Decoder, Evt3Encoder, event_time_to_ros_ns
from microexp.events.libcaer import (
    LibcaerCmpDecoder,
    LibcaerCmpEncoder,
    LibcaerDecoder,
    LibcaerEncoder,
)
from microexp.events.mono import MonoDecoder, MonoEncoder
from microexp.events.packet import ENCODINGS, PacketDecoder, make_packet_decoder
from microexp.events.raw_file import RawHeader, iter_raw, read_raw, read_raw_header, write_raw
from microexp.events.types import (
    EVENT_DTYPE,
    TRIGGER_DTYPE,
    DecodedEvents,
    EventArray,
    SensorSize,
    TriggerArray,
    empty_events,
    empty_triggers,
    make_events,
)

__all__ = [
    "ENCODINGS",
    "EVENT_DTYPE",
    "TRIGGER_DTYPE",
    "WRAP_US",
    "Aedat4Recording",
    "DecodedEvents",
    "EventArray",
    "EventArrayMessage",
    "Evt2Decoder",
    "Evt2Encoder",
    "Evt3Decoder",
    "Evt3Encoder",
    "LibcaerCmpDecoder",
    "LibcaerCmpEncoder",
    "LibcaerDecoder",
    "LibcaerEncoder",
    "MonoDecoder",
    "MonoEncoder",
    "PacketDecoder",
    "RawHeader",
    "SensorSize",
    "TriggerArray",
    "decode_event_array_cdr",
    "empty_events",
    "empty_triggers",
    "encode_event_array_cdr",
    "event_time_to_ros_ns",
    "iter_raw",
    "make_events",
    "make_packet_decoder",
    "read_aedat4",
    "read_raw",
    "read_raw_header",
    "write_aedat4",
    "write_raw",
]
