"""The AU catalog: FACS Action Units and the report's movements, and emotion rules.

Two kinds of labels share one namespace of *codes*:

- FACS Action Units, code ``"AU<number>"`` (the paper's 21 AUs, Table 1);
- the report's 7 facial *movements*, code ``"<name>"`` (e.g. ``"smile"``), each standing for one or
  more AUs.

Regions name the part of the face that moves; the simulator and the crops use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from microexp.errors import ConfigError

__all__ = [
    "CATALOG",
    "EMOTION_RULES",
    "MOVEMENT_CODES",
    "PAPER_AU_CODES",
    "ActionUnit",
    "EmotionRule",
    "FaceRegion",
    "estimate_emotion",
    "lookup",
]


class FaceRegion(str, Enum):
    """Part of the face that an AU moves."""

    BROWS = "brows"
    EYELIDS = "eyelids"
    EYES = "eyes"  # gaze: the eyeballs move, lids stay
    CHEEKS = "cheeks"
    NOSE = "nose"
    MOUTH = "mouth"
    CHIN = "chin"
    JAW = "jaw"
    HEAD = "head"  # whole-head motion


@dataclass(frozen=True, slots=True)
class ActionUnit:
    """One label of the catalog."""

    code: str  # "AU12" or a movement name such as "smile"
    name: str
    au_numbers: tuple[int, ...]  # FACS numbers this label stands for
    regions: tuple[FaceRegion, ...]
    instruction: str  # short text shown to the subject

    @property
    def is_movement(self) -> bool:
        return not self.code.startswith("AU")


def _au(number: int, name: str, regions: Iterable[FaceRegion], instruction: str) -> ActionUnit:
    return ActionUnit(f"AU{number}", name, (number,), tuple(regions), instruction)


R = FaceRegion
_ENTRIES: tuple[ActionUnit, ...] = (
    # The paper's 21 AUs (Table 1).
    _au(2, "outer brow raiser", [R.BROWS], "Raise the outer ends of your eyebrows."),
    _au(4, "brow lowerer", [R.BROWS], "Pull your eyebrows down and together."),
    _au(5, "upper lid raiser", [R.EYELIDS], "Open your eyes wide, raising the upper lids."),
    _au(6, "cheek raiser", [R.CHEEKS, R.EYELIDS], "Raise your cheeks, narrowing your eyes."),
    _au(9, "nose wrinkler", [R.NOSE], "Wrinkle your nose."),
    _au(12, "lip corner puller", [R.MOUTH, R.CHEEKS], "Pull the corners of your lips up."),
    _au(15, "lip corner depressor", [R.MOUTH], "Pull the corners of your lips down."),
    _au(17, "chin raiser", [R.CHIN, R.MOUTH], "Push your chin boss and lower lip up."),
    _au(23, "lip tightener", [R.MOUTH], "Tighten and narrow your lips."),
    _au(26, "jaw drop", [R.JAW, R.MOUTH], "Let your jaw drop, lips parted."),
    _au(41, "lid droop", [R.EYELIDS], "Let your upper eyelids droop."),
    _au(43, "eyes closed", [R.EYELIDS], "Close your eyes and keep them closed."),
    _au(45, "blink", [R.EYELIDS], "Blink once."),
    _au(51, "head turn left", [R.HEAD], "Turn your head to the left."),
    _au(52, "head turn right", [R.HEAD], "Turn your head to the right."),
    _au(53, "head up", [R.HEAD], "Tilt your head up."),
    _au(54, "head down", [R.HEAD], "Tilt your head down."),
    _au(61, "eyes turn left", [R.EYES], "Look to the left without moving your head."),
    _au(62, "eyes turn right", [R.EYES], "Look to the right without moving your head."),
    _au(63, "eyes up", [R.EYES], "Look up without moving your head."),
    _au(64, "eyes down", [R.EYES], "Look down without moving your head."),
    # AUs outside the paper's 21 that the report's movements need.
    _au(25, "lips part", [R.MOUTH], "Part your lips."),
    _au(31, "jaw clencher", [R.JAW], "Clench your jaw."),
    # The report's 7 movements (Mayaud & Bouchy), mapped to FACS.
    ActionUnit("upper_lid_raiser", "upper lid raiser", (5,), (R.EYELIDS,),
               "Open your eyes wide."),
    ActionUnit("smile", "smile", (6, 12), (R.MOUTH, R.CHEEKS), "Smile."),
    ActionUnit("open_mouth", "open mouth", (25, 26), (R.MOUTH, R.JAW), "Open your mouth."),
    ActionUnit("nose_wrinkle", "nose wrinkle", (9,), (R.NOSE,), "Wrinkle your nose."),
    ActionUnit("frown", "frown", (4,), (R.BROWS,), "Frown."),
    ActionUnit("blink", "blink eyes", (45,), (R.EYELIDS,), "Blink your eyes."),
    ActionUnit("contract_jaw", "contract jaw", (31,), (R.JAW,), "Clench your jaw."),
)

CATALOG: Mapping[str, ActionUnit] = MappingProxyType({e.code: e for e in _ENTRIES})
"""Every label by code."""

PAPER_AU_CODES: tuple[str, ...] = tuple(
    f"AU{n}" for n in (2, 4, 5, 6, 9, 12, 15, 17, 23, 26, 41, 43, 45, 51, 52, 53, 54, 61, 62, 63, 64)
)
"""The paper's 21 AUs, in Table 1 order: the class order of the paper's models."""

MOVEMENT_CODES: tuple[str, ...] = (
    "upper_lid_raiser", "smile", "open_mouth", "nose_wrinkle", "frown", "blink", "contract_jaw",
)
"""The report's 7 movements."""


def lookup(code: str, *, where: str = "") -> ActionUnit:
    """The catalog entry of ``code``; accepts ``"AU12"``, ``"12"`` or ``"au12"``.

    Raises :class:`ConfigError` naming ``where`` (e.g. ``"plan.yaml:14"``) for unknown codes.
    """
    key = code.strip()
    if key.isdigit():
        key = f"AU{int(key)}"
    elif key[:2].upper() == "AU" and key[2:].isdigit():
        key = f"AU{int(key[2:])}"
    try:
        return CATALOG[key]
    except KeyError:
        place = f"{where}: " if where else ""
        raise ConfigError(f"{place}unknown AU code {code!r} (known: {', '.join(CATALOG)})") from None


@dataclass(frozen=True, slots=True)
class EmotionRule:
    """An emotion is estimated when all of ``requires`` are active (codes of one family)."""

    emotion: str
    requires: frozenset[str]
    family: str  # "facs" (AU codes, EMFACS-style) or "movements" (the report's codes)


def _rule(emotion: str, family: str, *codes: str) -> EmotionRule:
    return EmotionRule(emotion, frozenset(codes), family)


EMOTION_RULES: tuple[EmotionRule, ...] = (
    # EMFACS-style prototypes restricted to the paper's 21 AUs (AU1, 7, 14, 16, 20 are not in them).
    _rule("happiness", "facs", "AU6", "AU12"),
    _rule("sadness", "facs", "AU4", "AU15"),
    _rule("surprise", "facs", "AU2", "AU5", "AU26"),
    _rule("fear", "facs", "AU2", "AU4", "AU5", "AU26"),
    _rule("anger", "facs", "AU4", "AU5", "AU23"),
    _rule("disgust", "facs", "AU9", "AU15"),
    # The report's combinations of movements (docs/references.md#report-emotions).
    _rule("joy", "movements", "open_mouth", "smile"),
    _rule("fear", "movements", "open_mouth", "frown"),
    _rule("sadness", "movements", "frown", "blink"),
    _rule("disgust", "movements", "nose_wrinkle", "frown"),
    _rule("anger", "movements", "contract_jaw", "frown"),
    _rule("surprise", "movements", "open_mouth", "upper_lid_raiser"),
)
"""Emotion rules as data. The report's disgust also lists an inverted smile (AU15), which is not one
of its 7 recorded movements; the rule keeps the two recorded ones."""


def estimate_emotion(
    active: Mapping[str, float], *, threshold: float = 0.5
) -> tuple[str, float] | None:
    """The emotion whose rule is fully satisfied with the highest mean score, or None.

    ``active`` maps label codes to scores in [0, 1]; a code counts when its score ≥ ``threshold``.
    Larger rules win ties (fear over surprise when both hold).
    """
    on = {c for c, s in active.items() if s >= threshold}
    best: tuple[tuple[float, int], str, float] | None = None
    for rule in EMOTION_RULES:
        if rule.requires <= on:
            score = sum(active[c] for c in rule.requires) / len(rule.requires)
            # rounded so that float summation order cannot decide a tie
            key = (round(score, 9), len(rule.requires))
            if best is None or key > best[0]:
                best = (key, rule.emotion, score)
    return None if best is None else (best[1], best[2])
