"""Consent records: the YAML file (strict), their checks, and the check a session makes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from microexp.consent import (
    ConsentError,
    ConsentScope,
    Modality,
    OnExpiry,
    Use,
    load_consent,
    parse_camera_modalities,
    parse_consent,
    session_consent,
)
from microexp.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "consent" / "example.yaml"
DAY = dt.date(2026, 6, 1)
E, G, R = Modality.EVENTS, Modality.GREY, Modality.RGB


def _doc(**changes: object) -> dict[str, object]:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc.update(changes)
    return doc


def _write(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "consent.yaml"
    path.write_text(yaml.safe_dump(_doc(**changes)))
    return path


def test_the_shipped_example_loads() -> None:
    scope = load_consent(EXAMPLE)
    assert (scope.subject_id, scope.form, scope.on_expiry) == ("P01", "ethics-2026-014 v3",
                                                               OnExpiry.REVIEW)  # fmt: skip
    assert (scope.study, scope.sharing, scope.publication) == ({E, G, R}, {E}, frozenset())
    assert (scope.given_on, scope.valid_until) == (dt.date(2026, 3, 2), dt.date(2027, 3, 1))
    assert scope.to_dict()["study"] == ["events", "grey", "rgb"]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"colour": True}, r"unknown key\(s\) \['colour'\]"),
        ({"version": 2}, "version 2; this microexp writes consent records of version 1"),
        ({"study": ["events", "infrared"]}, r"study: unknown modality 'infrared'"),
        ({"study": ["events", "events"]}, "study: modality repeated"),
        ({"study": []}, "study is empty"),
        ({"sharing": ["rgb"], "study": ["events"]}, r"sharing covers \['rgb'\] which the study"),
        ({"publication": "rgb"}, "publication: expected a list of modalities"),
        ({"valid_until": "next spring"}, "valid_until: 'next spring' is not a date"),
        ({"valid_until": "2026-01-01"}, "valid_until 2026-01-01 is before given_on 2026-03-02"),
        ({"on_expiry": "forget"}, "on_expiry 'forget'; expected review or delete"),
        ({"subject_id": "Jane Doe"}, "'Jane Doe' is not a pseudonym"),
        ({"subject_id": "jane@lab.org"}, "is not a pseudonym"),
        ({"form": ""}, "form must be a non-empty string"),
    ],
)
def test_bad_consent_files_name_the_file_and_the_key(
    tmp_path: Path, changes: dict[str, object], match: str
) -> None:
    path = _write(tmp_path, **changes)
    with pytest.raises(ConfigError, match=match) as info:
        load_consent(path)
    assert str(path) in str(info.value)


def test_missing_key_and_unreadable_file(tmp_path: Path) -> None:
    doc = _doc()
    del doc["valid_until"]
    with pytest.raises(ConfigError, match=r"missing key\(s\) \['valid_until'\]"):
        parse_consent(doc, where="x.yaml")
    with pytest.raises(ConfigError, match="cannot read the consent file"):
        load_consent(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("study: [events\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_consent(tmp_path / "bad.yaml")


def test_problems_per_use_and_expiry() -> None:
    scope = load_consent(EXAMPLE)
    assert scope.problems(modalities={E, G, R}, use=Use.STUDY, today=DAY) == []
    assert scope.problems(modalities={E, R}, use=Use.SHARING, today=DAY) == [
        "no consent for RGB video (sharing)"
    ]
    later = dt.date(2027, 3, 2)
    assert scope.problems(modalities={E}, use=Use.STUDY, today=later) == []  # review: usable
    assert scope.review_overdue(later) and not scope.review_overdue(dt.date(2027, 3, 1))
    ends = parse_consent(_doc(on_expiry="delete"), where="x")
    assert ends.problems(modalities={E}, use=Use.STUDY, today=later) == [
        "consent ended on 2027-03-01 (on_expiry: delete)"
    ]


def _session(tmp_path: Path, cameras: dict[str, set[Modality]], **changes: object) -> ConsentScope:
    return session_consent(
        consent=False,
        consent_file=_write(tmp_path, **changes),
        subject_id="P01",
        session_id="s1",
        cameras=cameras,
        today=DAY,
    )


def test_session_consent_covers_the_cameras(tmp_path: Path) -> None:
    scope = _session(tmp_path, {"davis": {E, G}, "webcam": {R}})
    assert (scope.subject_id, scope.session_id, scope.study) == ("P01", "s1", {E, G, R})


def test_webcam_without_rgb_consent_is_refused_naming_the_camera(tmp_path: Path) -> None:
    with pytest.raises(ConsentError) as info:
        _session(tmp_path, {"davis": {E, G}, "webcam": {R}}, study=["events", "grey"],
                 sharing=[])  # fmt: skip
    text = str(info.value)
    assert "consent.yaml: the consent of subject 'P01', session 's1' does not cover" in text
    assert "nothing is recorded" in text and "no consent for RGB video (study)" in text
    assert "camera webcam records rgb: remove it from cameras:=" in text
    assert "davis" not in text  # the covered camera is not blamed


def test_session_consent_refusals(tmp_path: Path) -> None:
    cams = {"evk4": {E}}
    with pytest.raises(ConsentError, match="consent of subject 'P02', but this session records"):
        _session(tmp_path, cams, subject_id="P02")
    with pytest.raises(ConsentError, match=r"consent ended on 2026-05-01"):
        _session(tmp_path, cams, valid_until="2026-05-01", on_expiry="delete")
    with pytest.raises(ConsentError, match="no consent recorded"):
        session_consent(consent=False, consent_file="", subject_id="P01", session_id="s",
                        cameras=cams, today=DAY)  # fmt: skip
    with pytest.raises(ConfigError, match="not both"):
        session_consent(consent=True, consent_file=_write(tmp_path), subject_id="P01",
                        session_id="s", cameras=cams, today=DAY)  # fmt: skip
    with pytest.raises(ConfigError, match="'P 01' is not a pseudonym"):
        session_consent(consent=True, consent_file="", subject_id="P 01", session_id="s",
                        cameras=cams, today=DAY)  # fmt: skip


def test_shorthand_is_study_only_for_every_modality() -> None:
    scope = session_consent(
        consent=True, consent_file="", subject_id="P01", session_id="s1",
        cameras={"davis": {E, G}, "webcam": {R}}, today=DAY,
    )  # fmt: skip
    assert (scope.study, scope.sharing, scope.publication) == ({E, G, R}, frozenset(), frozenset())
    assert scope.valid_until is None and scope.given_on == DAY and "consent:=true" in scope.form


def test_camera_modalities_parameter() -> None:
    got = parse_camera_modalities(["davis:events", "davis:grey", "webcam:rgb"], where="p")
    assert got == {"davis": {E, G}, "webcam": {R}}
    with pytest.raises(ConfigError, match="'davis' is not CAMERA:MODALITY"):
        parse_camera_modalities(["davis"], where="p")
    with pytest.raises(ConfigError, match="unknown modality 'depth'"):
        parse_camera_modalities(["kinect:depth"], where="p")
