"""The consent record in bags: microexp_msgs/Consent written and read back, bags of the old
layout (SessionInfo.consent only), and a bag written with another version of the message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from microexp.bagio import messages as M
from microexp.bagio.inspect import inspect_bag
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
from microexp.consent import (
    CONSENT_TOPIC,
    CONSENT_TYPE,
    ConsentScope,
    Modality,
    OnExpiry,
    consent_fields,
    recorded_scope,
    scope_from_msg,
)
from microexp.errors import ConfigError

TS = build_typestore()
SCOPE = ConsentScope(
    subject_id="P07",
    session_id="s2",
    study=frozenset({Modality.EVENTS, Modality.GREY}),
    sharing=frozenset({Modality.EVENTS}),
    form="form v3",
    given_on=dt.date(2026, 2, 1),
    valid_until=dt.date(2027, 2, 1),
    on_expiry=OnExpiry.DELETE,
)


def _info(consent: bool) -> object:
    return M.build_message(TS, "microexp_msgs/msg/SessionInfo", subject_id="P07",
                           session_id="s2", consent=consent)  # fmt: skip


def test_message_round_trip_through_cdr() -> None:
    msg = M.build_message(
        TS, CONSENT_TYPE, header=M.header(TS, stamp_ns=5), **consent_fields(SCOPE)
    )
    back = M.deserialize(TS, M.serialize(TS, msg), CONSENT_TYPE)
    assert back.version == 1 and list(back.study_modalities) == ["events", "grey"]
    assert scope_from_msg(back, where="t") == SCOPE
    assert recorded_scope(consent_msg=back, session_msg=_info(True), where="t") == SCOPE


def test_old_layout_reads_as_study_only_every_modality() -> None:
    legacy = recorded_scope(consent_msg=None, session_msg=_info(True), where="t")
    assert legacy is not None and legacy.version == 0
    assert legacy.study == set(Modality) and not legacy.sharing and not legacy.publication
    assert "before consent scopes" in legacy.describe()
    assert recorded_scope(consent_msg=None, session_msg=_info(False), where="t") is None
    assert recorded_scope(consent_msg=None, session_msg=None, where="t") is None


def test_unknown_version_and_bad_fields_are_refused() -> None:
    fields = consent_fields(SCOPE)
    msg = M.build_message(TS, CONSENT_TYPE, **{**fields, "version": 7})
    with pytest.raises(ConfigError, match=r"bag\.mcap: consent record version 7 is unknown"):
        scope_from_msg(msg, where="bag.mcap")
    bad = M.build_message(TS, CONSENT_TYPE, **{**fields, "study_modalities": ["thermal"]})
    with pytest.raises(ConfigError, match="study_modalities: unknown modality 'thermal'"):
        scope_from_msg(bad, where="b")


def test_inspect_shows_the_consent_and_the_old_layout(tmp_path: Path) -> None:
    with BagWriter(tmp_path / "new") as bag:
        bag.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        bag.add_topic(CONSENT_TOPIC, CONSENT_TYPE, qos="latched")
        bag.write_message("/microexp/session", 1, _info(True))
        bag.write_message(CONSENT_TOPIC, 2, M.build_message(TS, CONSENT_TYPE,
                                                            **consent_fields(SCOPE)))  # fmt: skip
    with BagWriter(tmp_path / "old") as bag:
        bag.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        bag.write_message("/microexp/session", 1, _info(True))
    new, old = inspect_bag(tmp_path / "new"), inspect_bag(tmp_path / "old")
    assert new.consent == SCOPE and new.to_json()["consent"]["valid_until"] == "2027-02-01"
    assert old.consent is not None and old.consent.version == 0
    assert old.to_json()["consent"]["sharing"] == []


V2 = """\
uint16 VERSION=2
std_msgs/Header header
uint16 version
string subject_id
string session_id
string[] study_modalities
string[] research_areas
"""


def test_a_bag_with_another_version_of_the_message(tmp_path: Path) -> None:
    """A bag written by a newer microexp: decoded with the definition stored in the bag (its
    RIHS01 hash differs from ours), and the version is refused by name, not misread."""
    writer_mod = pytest.importorskip("mcap.writer")
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    store.register(get_types_from_msg(V2, CONSENT_TYPE))
    msgdef, _ = store.generate_msgdef(CONSENT_TYPE, ros_version=2)
    msg = store.types[CONSENT_TYPE](
        header=M.header(store, stamp_ns=1), version=2, subject_id="P07", session_id="s2",
        study_modalities=["events"], research_areas=["emotion"],
    )  # fmt: skip
    path = tmp_path / "v2.mcap"
    with path.open("wb") as f:
        w = writer_mod.Writer(f)
        w.start(profile="ros2", library="test")
        sid = w.register_schema(name=CONSENT_TYPE, encoding="ros2msg", data=msgdef.encode())
        meta = {"offered_qos_profiles": "", "topic_type_hash": store.hash_rihs01(CONSENT_TYPE)}
        cid = w.register_channel(topic=CONSENT_TOPIC, message_encoding="cdr", schema_id=sid,
                                 metadata=meta)  # fmt: skip
        data = bytes(store.serialize_cdr(msg, CONSENT_TYPE))
        w.add_message(channel_id=cid, log_time=1, publish_time=1, data=data)
        w.finish()
    with open_bag(path) as reader:
        back = reader.deserialize(next(reader.messages()))
        assert (back.version, list(back.research_areas)) == (2, ["emotion"])
        assert any("decoded with the definition stored in the bag" in n for n in reader.notes)
    with pytest.raises(ConfigError, match="version 2 is unknown to this microexp"):
        scope_from_msg(back, where=str(path))
    summary = inspect_bag(path)
    assert summary.consent is None
    assert any("consent record version 2 is unknown" in n for n in summary.notes)
