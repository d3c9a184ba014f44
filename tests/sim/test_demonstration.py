"""Synthetic demonstration clips: the simulated face performs the AU, tagged as synthetic."""

from __future__ import annotations

import numpy as np
import pytest

from microexp.errors import ConfigError
from microexp.sim.demonstration import demonstration_frames


def _motion(code: str) -> np.ndarray:
    """|apex - neutral| per pixel (grey) of a 2 s clip at 10 fps, untagged, 320x180."""
    frames = demonstration_frames(code, width=320, height=180, duration_s=2.0, fps=10, tag=False)
    assert len(frames) == 20
    return np.abs(frames[10].astype(int) - frames[0].astype(int))[..., 0]


def test_the_face_moves_where_the_au_acts() -> None:
    jaw, brows = _motion("AU26"), _motion("AU2")
    assert jaw[90:].sum() > 0 and jaw[:90].sum() < 0.2 * jaw[90:].sum()  # jaw drop: lower half
    assert brows[:90].sum() > 0 and brows[90:].sum() < 0.2 * brows[:90].sum()  # brows: upper half
    assert _motion("smile").sum() > 0  # movements of the report too


def test_neutral_at_both_ends_and_the_synthetic_tag_only_in_its_corner() -> None:
    plain = demonstration_frames("AU12", width=320, height=180, duration_s=1.0, fps=10, tag=False)
    tagged = demonstration_frames("AU12", width=320, height=180, duration_s=1.0, fps=10)
    np.testing.assert_array_equal(plain[0], plain[-1])  # starts and ends on the neutral face
    diff = np.any(tagged[0] != plain[0], axis=2)
    ys, xs = np.nonzero(diff)
    assert ys.size > 100 and ys.max() < 30 and xs.min() > 320 // 3  # top right, a text box


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ConfigError, match="AU99"):
        demonstration_frames("AU99", width=64, height=48, duration_s=1.0)
    with pytest.raises(ConfigError, match="duration_s > 0"):
        demonstration_frames("AU12", width=64, height=48, duration_s=0.0)
