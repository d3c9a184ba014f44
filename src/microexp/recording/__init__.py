"""Recording core (ROS-free): recorder config, CDR header peeks, seq-gap counting, per-topic stats,
and the session recorder that the ROS recorder node drives (``microexp_ros.recorder_node``)."""

from microexp.recording.cdr import peek_event_packet_seq, peek_header_stamp_ns
from microexp.recording.config import RecorderConfig, TopicSpec, recorder_config_from_params
from microexp.recording.gaps import SeqGapCounter
from microexp.recording.recorder import RecorderState, SessionRecorder, adapt_qos
from microexp.recording.stats import TopicStats, TopicStatsSnapshot

__all__ = [
    "RecorderConfig",
    "RecorderState",
    "SeqGapCounter",
    "SessionRecorder",
    "TopicSpec",
    "TopicStats",
    "TopicStatsSnapshot",
    "adapt_qos",
    "peek_event_packet_seq",
    "peek_header_stamp_ns",
    "recorder_config_from_params",
]
