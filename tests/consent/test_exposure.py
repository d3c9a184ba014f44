"""What leaves the live graph: the README says what every topic carries of the subject, and the
predictions carry no image data and no subject id."""

from __future__ import annotations

import re
from pathlib import Path

from microexp.bagio.typestore import build_typestore
from microexp.recording.recorder import SUMMARY_TOPIC
from microexp.rosgraph import InferArgs, infer_graph, load_rig

README = Path(__file__).resolve().parents[2] / "README.md"


def _exposure_table() -> dict[str, str]:
    section = README.read_text().split("## Personal data\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 2:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[1]
    return rows


def test_readme_states_what_every_topic_exposes() -> None:
    rig = load_rig()
    topics = {t.name for cam in rig.cameras.values() for t in cam.topics}
    topics |= {t.name for t in (*rig.protocol_topics, *rig.sim_topics)}
    topics |= {InferArgs().predictions_topic, SUMMARY_TOPIC, "/diagnostics"}
    table = _exposure_table()
    assert topics - set(table) == set(), "topics the README's Personal data table leaves out"
    assert "no image, no subject id" in table[InferArgs().predictions_topic]
    assert "off unless set" in table["debug_image_topic"]


def test_predictions_carry_no_image_and_no_subject() -> None:
    _consts, fields = build_typestore().fielddefs["microexp_msgs/msg/AuPrediction"]
    for name, (_kind, arg) in fields:
        assert not re.search(r"subject|session|image|frame|crop|pixel", name), name
        text = repr(arg)
        assert "sensor_msgs" not in text and "'uint8'" not in text, (name, text)  # no pixels
        assert "'int8'" not in text and "'byte'" not in text, (name, text)


def test_inference_graph_asks_for_no_debug_image() -> None:
    rig = load_rig()
    for args in (InferArgs(sim=True, checkpoint="c.pt"), InferArgs(bag="/b", checkpoint="c.pt")):
        for node in infer_graph(args, rig):
            params = getattr(node, "param_dict", dict)()
            assert not params.get("debug_image_topic"), node
