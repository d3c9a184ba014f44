"""The launch graphs as data, built from the repository's real config/rig."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from microexp.errors import ConfigError
from microexp.recording import recorder_config_from_params
from microexp.rosgraph import (
    InferArgs,
    NodeSpec,
    ProcessSpec,
    RecordArgs,
    args_from_strings,
    default_rig_dir,
    infer_graph,
    load_rig,
    parse_assignments,
    record_graph,
)

RIG_DIR = Path(__file__).resolve().parents[2] / "config" / "rig"


@pytest.fixture(scope="module")
def rig():  # type: ignore[no-untyped-def]
    return load_rig(RIG_DIR)


def _record(rig, *items: str):  # type: ignore[no-untyped-def]
    return record_graph(args_from_strings(RecordArgs, parse_assignments(items)), rig)


def test_default_rig_dir_is_the_repository_config() -> None:
    assert default_rig_dir() == RIG_DIR


def test_every_driver_params_file_keys_its_node_name(rig) -> None:  # type: ignore[no-untyped-def]
    for cam in rig.cameras.values():
        doc = yaml.safe_load(cam.driver.params.read_text())
        assert list(doc) == [cam.driver.name], cam.driver.params
        assert "ros__parameters" in doc[cam.driver.name]
        sim = yaml.safe_load(cam.sim_params.read_text())
        assert f"sim_{cam.name}" in sim


def test_real_cameras_graph(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(rig, "subject:=P07", "session:=s2", "output_dir:=/data")
    roles = [e.role for e in graph]
    assert roles == [
        "camera:davis",
        "camera:evk4",
        "camera:webcam",
        "rig_check",
        "protocol",
        "recorder",
        "sync_monitor",
    ]
    check = graph[3]
    assert isinstance(check, NodeSpec) and (check.package, check.executable) == (
        "microexp",
        "rig_check",
    )
    assert check.param_dict() == {
        "rig_dir": str(RIG_DIR),
        "cameras": ("davis", "evk4", "webcam"),
        "sim": False,
    }
    assert check.param_files() == [RIG_DIR / "rig_check.yaml"]
    davis = graph[0]
    assert isinstance(davis, NodeSpec) and (davis.package, davis.executable) == (
        "dv_ros2_capture",
        "dv_ros2_capture_node",
    )
    assert ("camera/events", "/davis/events") in davis.remappings
    evk4 = graph[1]
    assert isinstance(evk4, NodeSpec) and evk4.remappings == (("~/events", "/evk4/events"),)
    rec = graph[5]
    assert isinstance(rec, NodeSpec)
    params = rec.param_dict()
    assert params["output"] == "/data/P07_s2"
    assert set(params["wait_for"]) == {
        "/davis/events",
        "/evk4/events",
        "/webcam/image_raw/compressed",
        "/microexp/consent",  # no recording without the consent record
    }  # type: ignore[arg-type]
    # the recorder's own validation accepts what the graph hands it
    cfg = recorder_config_from_params(
        {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
    )
    assert cfg.spec("/microexp/session").qos == "latched"
    assert cfg.spec("/microexp/consent").qos == "latched"
    protocol = next(e for e in graph if e.role == "protocol")
    assert isinstance(protocol, NodeSpec)
    # the protocol node checks the subject's consent against what each camera records
    assert protocol.param_dict()["camera_modalities"] == (
        "davis:events",
        "davis:grey",
        "evk4:events",
        "webcam:rgb",
    )
    assert protocol.param_dict()["consent_file"] == ""
    assert cfg.spec("/evk4/events").has_seq
    # the recorder subscribes with the QoS each real driver offers (rig.yaml)
    assert (cfg.spec("/evk4/events").qos, cfg.spec("/davis/events").qos) == (
        "sensor_data",
        "reliable",
    )
    assert cfg.spec("/webcam/image_raw/compressed").qos == "reliable"
    assert "/microexp/ground_truth" not in params["topics"]  # type: ignore[operator]


def test_sim_graph_replaces_drivers(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(rig, "sim:=true", "cameras:=davis,evk4", "sync_monitor:=false")
    cams = [e for e in graph if e.role.startswith("camera:")]
    assert [(e.package, e.executable, e.name) for e in cams if isinstance(e, NodeSpec)] == [
        ("microexp", "sim_camera", "sim_davis"),
        ("microexp", "sim_camera", "sim_evk4"),
    ]
    rec = next(e for e in graph if e.role == "recorder")
    assert isinstance(rec, NodeSpec)
    topics = rec.param_dict()["topics"]
    assert "/microexp/ground_truth" in topics and "/davis/trigger" not in topics  # type: ignore[operator]
    assert not any(e.role == "sync_monitor" for e in graph)
    protocol = next(e for e in graph if e.role == "protocol")
    assert isinstance(protocol, NodeSpec) and protocol.param_dict()["headless"] is True


def test_rosbag2_recorder_uses_the_qos_override_file(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(
        rig, "recorder:=rosbag2", "storage:=sqlite3", "compression:=zstd", "cameras:=evk4"
    )
    rec = next(e for e in graph if e.role == "recorder")
    assert isinstance(rec, ProcessSpec)
    cmd = list(rec.cmd)
    assert cmd[:3] == ["ros2", "bag", "record"] and cmd[cmd.index("-s") + 1] == "sqlite3"
    overrides = yaml.safe_load(Path(cmd[cmd.index("--qos-profile-overrides-path") + 1]).read_text())
    assert (
        overrides["/evk4/events"]["reliability"] == "best_effort"
        and overrides["/evk4/events"]["depth"] >= 1000
    )
    assert "/evk4/events" in cmd and cmd[cmd.index("--compression-format") + 1] == "zstd"


def test_no_cameras(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(rig, "cameras:=none", "protocol:=false", "sync_monitor:=false")
    assert [e.role for e in graph] == ["recorder"]  # nothing to check


def test_rig_check_checks_the_simulated_cameras_or_is_skipped(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(rig, "sim:=true", "cameras:=evk4", "protocol:=false")
    assert [e.role for e in graph] == ["camera:evk4", "rig_check", "recorder", "sync_monitor"]
    check = graph[1]
    assert isinstance(check, NodeSpec)
    assert check.param_dict()["sim"] is True and check.param_dict()["cameras"] == ("evk4",)
    skipped = _record(rig, "sim:=true", "cameras:=evk4", "protocol:=false", "rig_check:=false")
    assert [e.role for e in skipped] == ["camera:evk4", "recorder", "sync_monitor"]


def test_protocol_without_cameras_checks_no_modality(rig) -> None:  # type: ignore[no-untyped-def]
    protocol = next(e for e in _record(rig, "cameras:=none") if e.role == "protocol")
    assert isinstance(protocol, NodeSpec) and "camera_modalities" not in protocol.param_dict()


def test_consent_file_reaches_the_protocol_node(rig) -> None:  # type: ignore[no-untyped-def]
    graph = _record(rig, "sim:=true", "cameras:=webcam", "consent_file:=/lab/P01.yaml")
    protocol = next(e for e in graph if e.role == "protocol")
    assert isinstance(protocol, NodeSpec)
    params = protocol.param_dict()
    assert (params["consent_file"], params["consent"]) == ("/lab/P01.yaml", False)
    assert params["camera_modalities"] == ("webcam:rgb",)


def test_infer_graph(rig) -> None:  # type: ignore[no-untyped-def]
    graph = infer_graph(InferArgs(sim=True, checkpoint="best.pt"), rig)
    infer = [e for e in graph if e.role == "inference"]
    assert [e.name for e in infer] == [
        "inference_davis",
        "inference_evk4",
    ]  # the webcam has no events
    with pytest.raises(ConfigError, match="publishes events"):
        infer_graph(InferArgs(cameras=("webcam",)), rig)


def test_infer_graph_plays_a_bag_with_our_player(rig) -> None:  # type: ignore[no-untyped-def]
    bag = infer_graph(InferArgs(bag="/b", cameras=("davis", "evk4")), rig)
    assert [e.role for e in bag] == ["source", "inference", "inference"]
    player = bag[0]
    assert isinstance(player, NodeSpec) and (player.package, player.executable) == (
        "microexp", "player")  # fmt: skip
    # it starts once both inference nodes listen (ros2 bag play would not wait)
    assert player.param_dict() == {"bag": "/b", "rate": 1.0, "loop": False,
                                   "wait_timeout_s": 60.0,
                                   "wait_for": ("/davis/events", "/evk4/events")}  # fmt: skip


def test_infer_graph_attaches_to_topics_published_elsewhere(rig) -> None:  # type: ignore[no-untyped-def]
    graph = infer_graph(InferArgs(attach=True, cameras=("davis", "evk4")), rig)
    assert [(e.role, e.name) for e in graph] == [("inference", "inference_davis"),
                                                 ("inference", "inference_evk4")]  # fmt: skip
    params = [e.param_dict() for e in graph if isinstance(e, NodeSpec)]
    assert [p["events_topic"] for p in params] == ["/davis/events", "/evk4/events"]
    for args in (InferArgs(attach=True, sim=True), InferArgs(attach=True, bag="/b"),
                 InferArgs(sim=True, bag="/b")):  # fmt: skip
        with pytest.raises(ConfigError, match="exclude each other"):
            infer_graph(args, rig)


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["bogus:=1"], r"unknown launch argument\(s\) \['bogus'\]"),
        (["sim:=maybe"], "sim:='maybe' is not a boolean"),
        (["storage:=zip"], "storage:='zip'; expected one of"),
        (["cameras:=davis,kinect"], r"unknown camera\(s\) \['kinect'\]"),
        (["subject"], "expected NAME:=VALUE"),
        (["sim:=1", "sim:=0"], "given twice"),
    ],
)
def test_bad_arguments(rig, items: list[str], match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=match):
        _record(rig, *items)


def test_rig_is_strict(tmp_path: Path) -> None:
    for f in RIG_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    doc = yaml.safe_load((tmp_path / "rig.yaml").read_text())
    doc["cameras"]["davis"]["drivr"] = doc["cameras"]["davis"].pop("driver")
    (tmp_path / "rig.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"cameras.davis: missing key\(s\) \['driver'\]"):
        load_rig(tmp_path)
    with pytest.raises(ConfigError, match="cannot read the rig description"):
        load_rig(tmp_path / "nowhere")
    doc["cameras"]["davis"]["driver"] = doc["cameras"]["davis"].pop("drivr")
    doc["cameras"]["davis"]["topics"]["/davis/image"]["modality"] = "infrared"
    (tmp_path / "rig.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"/davis/image.modality: 'infrared' is not one of"):
        load_rig(tmp_path)
    del doc["cameras"]["davis"]["topics"]["/davis/image"]["modality"]
    (tmp_path / "rig.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"/davis/image: missing key\(s\) \['modality'\]"):
        load_rig(tmp_path)
