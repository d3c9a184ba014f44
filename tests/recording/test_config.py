"""Recorder config from node parameters: valid cases and every error naming the bad key."""

from __future__ import annotations

import pytest

from microexp.errors import ConfigError
from microexp.recording import recorder_config_from_params

BASE = {
    "output": "sessions/P01_s1",  # never created: only the config is built
    "topics": ["/evk4/events", "/microexp/protocol"],
    "types": ["event_camera_msgs/msg/EventPacket", "microexp_msgs/msg/ProtocolEvent"],
}


def test_defaults_and_wait_for() -> None:
    cfg = recorder_config_from_params({**BASE, "wait_for": ["/evk4/events"]})
    assert [t.qos for t in cfg.topics] == ["auto", "auto"]
    assert [t.wait for t in cfg.topics] == [True, False]
    assert cfg.spec("/evk4/events").has_seq and not cfg.spec("/microexp/protocol").has_seq
    assert (cfg.storage, cfg.depth, cfg.require_consent) == ("mcap", 1000, True)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"bogus": 1}, r"unknown parameter\(s\) \['bogus'\]"),
        ({"output": ""}, "output must name the bag folder"),
        ({"types": ["event_camera_msgs/msg/EventPacket"]}, r"topics \(2\), types \(1\)"),
        ({"qos": ["auto", "fast"]}, "qos of /microexp/protocol is 'fast'"),
        (
            {"wait_for": ["/davis/events"]},
            r"wait_for names topics not recorded: \['/davis/events'\]",
        ),
        ({"storage": "bag"}, "storage is 'bag'"),
        ({"compression": "lz4"}, "compression is 'lz4'"),
        ({"depth": 0}, "depth must be a positive integer, got 0"),
        ({"stats_period_s": -1.0}, "stats_period_s must be > 0"),
        ({"require_consent": "yes"}, "require_consent must be a bool"),
        ({"session_topic": "session"}, "session_topic must be an absolute topic"),
        ({"topics": "/a"}, "topics must be a list of strings"),
        ({"types": ["EventPacket", "microexp_msgs/msg/ProtocolEvent"]}, "expected 'pkg/msg/Type'"),
    ],
)
def test_errors_name_the_key(extra: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        recorder_config_from_params({**BASE, **extra}, source="node /recorder")


def test_empty_and_duplicate_topics() -> None:
    with pytest.raises(ConfigError, match="topics is empty"):
        recorder_config_from_params({"output": "b", "topics": [], "types": []})
    with pytest.raises(ConfigError, match="duplicates"):
        recorder_config_from_params(
            {"output": "b", "topics": ["/a", "/a"], "types": ["p/msg/T"] * 2}
        )
