"""Plans load, expand and are rejected with <file>:<line> in the message."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from microexp.aus import MOVEMENT_CODES, PAPER_AU_CODES
from microexp.errors import ConfigError
from microexp.protocol.plan import load_plan, parse_plan

from .conftest import PLANS

DEMO = (PLANS / "demo_3au.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "plan.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_plans_load() -> None:
    paper = load_plan(PLANS / "paper.yaml")
    assert paper.labels == PAPER_AU_CODES
    assert [s.run for s in paper.segments] == ["demo"] * 2 + ["main"] * 21
    assert paper.timing.demo_repetitions == 3
    report = load_plan(PLANS / "report.yaml")
    assert report.labels == MOVEMENT_CODES
    assert report.sync.per_segment and not report.sync.at_start
    t = report.timing
    assert (
        t.countdown_s,
        t.countdown_s + t.neutral_s,
        t.countdown_s + t.neutral_s + t.perform_s,
    ) == (2.0, 7.0, 12.0)
    short = load_plan(PLANS / "paper_short.yaml")
    assert sorted(short.labels) == sorted(PAPER_AU_CODES)
    assert [s.label for s in short.segments] != list(PAPER_AU_CODES)  # shuffled
    assert sorted(s.label for s in short.segments) == sorted(PAPER_AU_CODES)
    assert len(load_plan(PLANS / "demo_3au.yaml").segments) == 4


def test_shuffle_is_seeded_and_repetitions_expand() -> None:
    text = DEMO.replace("order: fixed", "order: shuffle\nseed: 3").replace(
        "repetitions: 1", "repetitions: 4"
    )
    a, b = parse_plan(text), parse_plan(text)
    assert [s.label for s in a.segments] == [s.label for s in b.segments]
    main = [s for s in a.segments if s.run == "main"]
    assert len(main) == 12
    for code in ("AU12", "AU45", "AU4"):
        assert sorted(s.repetition for s in main if s.label == code) == [0, 1, 2, 3]
    c = parse_plan(text.replace("seed: 3", "seed: 4"))
    assert [s.label for s in c.segments] != [s.label for s in a.segments]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("  perform_s: 1.0", "  perfrom_s: 1.0", "perfrom_s", "unknown key 'perfrom_s'"),
        (
            "labels: [AU12, AU45, AU4]",
            "labels: [AU12, AU99, AU4]",
            "AU99",
            "unknown AU code 'AU99'",
        ),
        ("  rest_s: 0.5", "  rest_s: half", "rest_s", "expected a duration in seconds, got 'half'"),
        ("  countdown_s: 1.0", "  countdown_s: -1.0", "countdown_s", "negative duration -1.0 s"),
        ("repetitions: 1", "repetitions: 1.5", "repetitions", "expected an integer"),
        ("  at_start: true", "  at_start: yes please", "at_start", "expected true or false"),
        ("order: fixed", "order: shuffle", "order", "needs an integer 'seed'"),
        ("order: fixed", "order: random", "order", "expected 'fixed' or 'shuffle'"),
        ("labels: [AU12, AU45, AU4]", "labels: [AU12, AU45, AU12]", "labels:", "AU12 listed twice"),
        ("  perform_s: 1.0", "  perform_s: 0", "perform_s", "perform window must be > 0"),
        ("  labels: [AU12]", "  labels: AU12", "  labels: AU12", "expected a list of AU codes"),
    ],
)
def test_rejected_plans_name_file_and_line(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    assert old in DEMO
    text = DEMO.replace(old, new, 1)
    line = _line_of(text, needle)
    with pytest.raises(ConfigError, match=rf"plan\.yaml:{line}: .*{re.escape(message)}"):
        load_plan(_write(tmp_path, text))


def test_missing_key_names_the_mapping_line(tmp_path: Path) -> None:
    text = DEMO.replace("  rest_s: 0.5\n", "")
    with pytest.raises(
        ConfigError,
        match=rf"plan\.yaml:{_line_of(text, 'timing:') + 1}: timing: missing key\(s\) rest_s",
    ):
        load_plan(_write(tmp_path, text))
    drop = ("sync", "  pattern", "  at_start", "  per_segment")
    text = "\n".join(line for line in DEMO.splitlines() if not line.startswith(drop))
    first = _line_of(text, "name:")  # the top mapping starts at its first key
    with pytest.raises(ConfigError, match=rf"plan\.yaml:{first}: plan: missing key\(s\) sync"):
        load_plan(_write(tmp_path, text))


def test_bad_yaml_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"plan\.yaml:\d+: not valid YAML"):
        load_plan(
            _write(tmp_path, DEMO.replace("labels: [AU12, AU45, AU4]", "labels: [AU12, AU45"))
        )
    with pytest.raises(ConfigError, match=r"plan\.yaml:1: empty plan"):
        load_plan(_write(tmp_path, "# nothing\n"))
    with pytest.raises(ConfigError, match=r"cannot read plan"):
        load_plan(tmp_path / "absent.yaml")


def test_clips_are_relative_to_the_plan_file(tmp_path: Path) -> None:
    clip_dir = tmp_path / "clips"
    clip_dir.mkdir()
    w = cv2.VideoWriter(str(clip_dir / "au12.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 10, (32, 24))
    for _ in range(3):
        w.write(np.zeros((24, 32, 3), np.uint8))
    w.release()
    plan = load_plan(_write(tmp_path, DEMO + "clips:\n  AU12: clips/au12.avi\n"))
    assert plan.clips["AU12"] == (clip_dir / "au12.avi").resolve()
    text = DEMO + "clips:\n  AU12: clips/missing.avi\n"
    with pytest.raises(
        ConfigError, match=rf"plan\.yaml:{_line_of(text, 'missing.avi')}: clips.AU12: no such file"
    ):
        load_plan(_write(tmp_path, text))
    text = DEMO + "clips:\n  AU77: clips/au12.avi\n"
    with pytest.raises(ConfigError, match=rf"plan\.yaml:{_line_of(text, 'AU77')}: unknown AU code"):
        load_plan(_write(tmp_path, text))


def test_plans_are_found_by_name(tmp_path: Path) -> None:
    from microexp.protocol.plan import find_plan

    assert find_plan("paper") == PLANS / "paper.yaml"
    (tmp_path / "mine.yaml").write_text(DEMO, encoding="utf-8")
    assert find_plan("mine", search_dirs=[tmp_path]) == tmp_path / "mine.yaml"
    assert find_plan(str(tmp_path / "mine.yaml")) == tmp_path / "mine.yaml"
    with pytest.raises(ConfigError, match=r"plan 'papr': no such file.*known: .*demo_3au, .*paper"):
        find_plan("papr")
