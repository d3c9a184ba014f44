"""How each Action Unit moves the simulated face, and its onset–apex–offset intensity profile.

A face's expression state is :class:`FaceParams`: a flat set of geometric offsets in *face units*
(1 = the head's half-height, y pointing down). Each FACS AU contributes a fixed displacement per
unit intensity (:data:`AU_DELTAS`), following the AU's FACS description; the catalog's movements
(``"smile"`` = AU6 + AU12, ...) are the sum of their AUs. :func:`face_params` adds them up.

Time profiles are :class:`ActionProfile`: smooth ramps from ``onset_us`` to the peak at
``apex_us``, a hold until ``apex_end_us`` and a ramp back to neutral at ``offset_us``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

__all__ = [
    "AU_DELTAS",
    "SIMULATED_AU_NUMBERS",
    "ActionProfile",
    "FaceParams",
    "Style",
    "face_params",
    "random_profile",
]

Style = Literal["micro", "posed"]


@dataclass(frozen=True, slots=True)
class FaceParams:
    """Expression and pose of the face at one instant (face units; 0 = neutral)."""

    brow_inner_dy: float = 0.0  # + = down
    brow_mid_dy: float = 0.0
    brow_outer_dy: float = 0.0
    brow_inner_dx: float = 0.0  # + = toward the midline
    furrow: float = 0.0  # vertical glabella lines, 0..1
    upper_lid: float = 1.0  # openness of the upper lid: 0 closed, 1 neutral, >1 wide
    lower_lid_raise: float = 0.0  # 0..1
    gaze_x: float = 0.0  # -1..1, + = image right
    gaze_y: float = 0.0  # -1..1, + = down
    cheek_dy: float = 0.0  # + = down
    cheek_shade: float = 0.0  # extra cheek bulge shading, 0..1
    nasolabial: float = 0.0  # depth of the nasolabial folds, 0..1
    nose_wrinkle: float = 0.0  # 0..1
    nostril_dy: float = 0.0
    nostril_dx: float = 0.0  # + = wider
    upper_lip_dy: float = 0.0
    lower_lip_dy: float = 0.0
    corner_dx: float = 0.0  # + = outward
    corner_dy: float = 0.0  # + = down
    lip_thin: float = 0.0  # 0..1
    mouth_open: float = 0.0  # lips part, 0..1
    jaw_drop: float = 0.0  # 0..1
    chin_dy: float = 0.0
    chin_wrinkle: float = 0.0  # 0..1
    jaw_clench: float = 0.0  # 0..1
    yaw: float = 0.0  # -1..1, + = face turns toward image right
    pitch: float = 0.0  # -1..1, + = head down
    roll: float = 0.0  # radians
    head_dx: float = 0.0  # rigid head translation (face units)
    head_dy: float = 0.0

    def plus(self, other: Mapping[str, float], scale: float = 1.0) -> FaceParams:
        """These params with ``scale * other[name]`` added to each named field."""
        return replace(self, **{k: getattr(self, k) + scale * v for k, v in other.items()})

    def clamped(self) -> FaceParams:
        """Params with the bounded fields clipped to their valid ranges."""
        c = np.clip
        return replace(
            self,
            upper_lid=float(c(self.upper_lid, 0.0, 1.7)),
            lower_lid_raise=float(c(self.lower_lid_raise, 0.0, 1.0)),
            gaze_x=float(c(self.gaze_x, -1.0, 1.0)),
            gaze_y=float(c(self.gaze_y, -1.0, 1.0)),
            furrow=float(c(self.furrow, 0.0, 1.0)),
            nose_wrinkle=float(c(self.nose_wrinkle, 0.0, 1.0)),
            lip_thin=float(c(self.lip_thin, 0.0, 0.9)),
            mouth_open=float(c(self.mouth_open, 0.0, 1.0)),
            jaw_drop=float(c(self.jaw_drop, 0.0, 1.0)),
            yaw=float(c(self.yaw, -1.0, 1.0)),
            pitch=float(c(self.pitch, -1.0, 1.0)),
        )


# Displacement per unit intensity of each FACS AU (face units unless the field says otherwise).
AU_DELTAS: Mapping[int, Mapping[str, float]] = {
    2: {"brow_outer_dy": -0.10, "brow_mid_dy": -0.045},  # outer brow raiser
    4: {"brow_inner_dy": 0.06, "brow_mid_dy": 0.035, "brow_inner_dx": 0.045, "furrow": 1.0},
    5: {"upper_lid": 0.6},  # upper lid raiser
    6: {"cheek_dy": -0.06, "cheek_shade": 1.0, "lower_lid_raise": 0.5, "upper_lid": -0.15},
    9: {"nose_wrinkle": 1.0, "nostril_dy": -0.03, "nostril_dx": 0.015, "upper_lip_dy": -0.03},
    12: {"corner_dx": 0.04, "corner_dy": -0.06, "cheek_dy": -0.025, "nasolabial": 1.0},
    15: {"corner_dy": 0.055, "corner_dx": -0.01},  # lip corner depressor
    17: {"lower_lip_dy": -0.03, "chin_dy": -0.04, "chin_wrinkle": 1.0},  # chin raiser
    23: {"lip_thin": 0.7, "corner_dx": -0.04},  # lip tightener
    25: {"mouth_open": 1.0},  # lips part
    26: {"jaw_drop": 1.0},  # jaw drop
    31: {"jaw_clench": 1.0},  # jaw clencher (masseter bulge)
    41: {"upper_lid": -0.45},  # lid droop
    43: {"upper_lid": -1.0},  # eyes closed
    45: {"upper_lid": -1.0},  # blink
    51: {"yaw": 1.0},  # head turn left (subject's left = image right)
    52: {"yaw": -1.0},
    53: {"pitch": -1.0},  # head up
    54: {"pitch": 1.0},
    61: {"gaze_x": 1.0},  # eyes turn left (subject's left = image right)
    62: {"gaze_x": -1.0},
    63: {"gaze_y": -1.0},
    64: {"gaze_y": 1.0},
}

SIMULATED_AU_NUMBERS: tuple[int, ...] = tuple(sorted(AU_DELTAS))
"""Every FACS number the simulated face can perform."""


def face_params(intensities: Mapping[int, float], *, base: FaceParams | None = None) -> FaceParams:
    """The face with each AU (FACS number -> intensity in [0, 1]) applied on top of ``base``."""
    params = base or FaceParams()
    for number, value in intensities.items():
        if value != 0.0:
            params = params.plus(AU_DELTAS[number], value)
    return params.clamped()


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True, slots=True)
class ActionProfile:
    """Intensity of one performed action over time (µs on the protocol clock)."""

    onset_us: int
    apex_us: int
    apex_end_us: int
    offset_us: int
    peak: float = 1.0

    def __post_init__(self) -> None:
        if not self.onset_us < self.apex_us <= self.apex_end_us < self.offset_us:
            raise ValueError(
                "profile times must satisfy onset < apex <= apex_end < offset, got "
                f"{self.onset_us}, {self.apex_us}, {self.apex_end_us}, {self.offset_us}"
            )

    @property
    def duration_us(self) -> int:
        return self.offset_us - self.onset_us

    def intensity(self, t_us: np.ndarray | float) -> np.ndarray:
        """Intensity in [0, peak] at ``t_us`` (scalar or array)."""
        t = np.asarray(t_us, dtype=np.float64)
        rise = _smoothstep((t - self.onset_us) / (self.apex_us - self.onset_us))
        fall = 1.0 - _smoothstep((t - self.apex_end_us) / (self.offset_us - self.apex_end_us))
        return self.peak * np.where(t < self.apex_end_us, rise, fall)

    def active(self, t0_us: int, t1_us: int) -> bool:
        """True when the profile is non-zero anywhere in [t0_us, t1_us)."""
        return self.onset_us < t1_us and self.offset_us > t0_us


def random_profile(
    rng: np.random.Generator,
    *,
    start_us: int,
    window_us: int,
    style: Style,
    au_numbers: tuple[int, ...] = (),
    peak: float = 1.0,
) -> ActionProfile:
    """A randomised onset–apex–offset profile that fits in ``[start_us, start_us + window_us)``.

    ``micro``: 170–500 ms in total; ``posed``: 1.2–3.2 s with a held apex. A blink (AU45) is always
    short (100–300 ms).
    """
    if 45 in au_numbers:
        total = rng.uniform(100e3, 300e3)
        onset_frac, hold_frac = rng.uniform(0.3, 0.45), 0.0
    elif style == "micro":
        total = rng.uniform(170e3, 500e3)
        onset_frac, hold_frac = rng.uniform(0.3, 0.45), rng.uniform(0.0, 0.2)
    else:
        total = rng.uniform(1.2e6, 3.2e6)
        onset_frac, hold_frac = rng.uniform(0.15, 0.25), rng.uniform(0.4, 0.6)
    total = min(total, 0.9 * window_us)
    slack = max(window_us - total, 0.0)
    onset = start_us + int(rng.uniform(0.1, 0.6) * slack)
    rise = max(int(total * onset_frac), 1)
    hold = int(total * hold_frac)
    fall = max(int(total) - rise - hold, 1)
    apex = onset + rise
    return ActionProfile(onset, apex, apex + hold, apex + hold + fall, peak)
