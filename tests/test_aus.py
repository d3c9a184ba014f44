from __future__ import annotations

import pytest

from microexp.aus import (
    CATALOG,
    EMOTION_RULES,
    MOVEMENT_CODES,
    PAPER_AU_CODES,
    FaceRegion,
    estimate_emotion,
    lookup,
)
from microexp.errors import ConfigError


def test_paper_table1_aus_are_all_present_in_order() -> None:
    numbers = [lookup(c).au_numbers[0] for c in PAPER_AU_CODES]
    assert numbers == [2, 4, 5, 6, 9, 12, 15, 17, 23, 26, 41, 43, 45, 51, 52, 53, 54, 61, 62, 63, 64]


def test_report_movements_map_to_known_aus() -> None:
    assert len(MOVEMENT_CODES) == 7
    for code in MOVEMENT_CODES:
        entry = CATALOG[code]
        assert entry.is_movement
        for n in entry.au_numbers:
            assert f"AU{n}" in CATALOG


@pytest.mark.parametrize("spelling", ["AU12", "au12", "12", " AU12 "])
def test_lookup_accepts_common_spellings(spelling: str) -> None:
    assert lookup(spelling).name == "lip corner puller"


def test_unknown_code_names_where_it_came_from() -> None:
    with pytest.raises(ConfigError, match=r"plan\.yaml:7: unknown AU code 'AU99'"):
        lookup("AU99", where="plan.yaml:7")


def test_head_and_gaze_aus_have_their_regions() -> None:
    assert all(CATALOG[f"AU{n}"].regions == (FaceRegion.HEAD,) for n in (51, 52, 53, 54))
    assert all(CATALOG[f"AU{n}"].regions == (FaceRegion.EYES,) for n in (61, 62, 63, 64))


def test_every_rule_uses_catalog_codes_of_its_family() -> None:
    for rule in EMOTION_RULES:
        for code in rule.requires:
            assert code in CATALOG
            assert CATALOG[code].is_movement == (rule.family == "movements")


def test_emotion_needs_every_required_code_above_threshold() -> None:
    assert estimate_emotion({"AU6": 0.9, "AU12": 0.8}) == ("happiness", pytest.approx(0.85))
    assert estimate_emotion({"AU6": 0.9, "AU12": 0.3}) is None
    assert estimate_emotion({}) is None


def test_larger_rule_wins_when_scores_tie() -> None:
    # fear (2, 4, 5, 26) contains surprise (2, 5, 26): with equal scores fear is the estimate
    scores = {"AU2": 0.8, "AU4": 0.8, "AU5": 0.8, "AU26": 0.8}
    assert estimate_emotion(scores) == ("fear", pytest.approx(0.8))


def test_report_combinations() -> None:
    assert estimate_emotion({"open_mouth": 1.0, "smile": 1.0})[0] == "joy"  # type: ignore[index]
    assert estimate_emotion({"contract_jaw": 0.7, "frown": 0.9})[0] == "anger"  # type: ignore[index]
