"""Bag playback without ROS: which topics a bag player publishes and with what QoS
(:mod:`~microexp.playback.plan`, :mod:`~microexp.playback.qos`), and when each message is due
(:mod:`~microexp.playback.pacer`). The ROS ``player`` node (``microexp play``) only creates the
publishers and hands them the raw CDR bytes."""

from microexp.playback.pacer import LatenessHistogram, PlaybackStats, play_messages
from microexp.playback.plan import (
    MessageSource,
    PlayedTopic,
    PlayerConfig,
    rig_topic_qos,
    select_topics,
)
from microexp.playback.qos import (
    QOS_PRESETS,
    QosPreset,
    TopicQos,
    load_qos_overrides,
    parse_qos_assignments,
    preset_qos,
    resolve_topic_qos,
)

__all__ = [
    "QOS_PRESETS",
    "LatenessHistogram",
    "MessageSource",
    "PlaybackStats",
    "PlayedTopic",
    "PlayerConfig",
    "QosPreset",
    "TopicQos",
    "load_qos_overrides",
    "parse_qos_assignments",
    "play_messages",
    "preset_qos",
    "resolve_topic_qos",
    "rig_topic_qos",
    "select_topics",
]
