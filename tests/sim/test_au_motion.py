from __future__ import annotations

import numpy as np
import pytest

from microexp.sim.au_motion import ActionProfile, random_profile


def test_profile_rises_holds_and_returns_to_neutral() -> None:
    p = ActionProfile(1000, 2000, 3000, 4500, peak=0.8)
    t = np.array([0, 1000, 1500, 2000, 2500, 3000, 4500, 9000])
    v = p.intensity(t)
    assert v[0] == v[1] == 0.0
    assert 0.0 < v[2] < 0.8
    assert v[3] == v[4] == v[5] == pytest.approx(0.8)
    assert v[6] == v[7] == 0.0
    assert np.all(np.diff(p.intensity(np.arange(1000, 2001, 10))) >= 0)
    assert p.duration_us == 3500
    assert p.active(4000, 5000) and not p.active(4500, 6000)


def test_profile_refuses_unordered_times() -> None:
    with pytest.raises(ValueError, match="onset < apex"):
        ActionProfile(2000, 1000, 3000, 4000)


@pytest.mark.parametrize("seed", range(20))
def test_random_profiles_fit_the_window_with_micro_and_posed_durations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    micro = random_profile(rng, start_us=5_000_000, window_us=2_000_000, style="micro")
    assert 170_000 <= micro.duration_us <= 500_001
    assert micro.onset_us >= 5_000_000 and micro.offset_us <= 7_000_000
    posed = random_profile(rng, start_us=0, window_us=4_000_000, style="posed")
    assert 1_200_000 <= posed.duration_us <= 3_200_001
    assert posed.apex_end_us - posed.apex_us > 0.3 * posed.duration_us  # a held apex
    blink = random_profile(rng, start_us=0, window_us=4_000_000, style="posed", au_numbers=(45,))
    assert blink.duration_us <= 300_001
    short = random_profile(rng, start_us=0, window_us=300_000, style="posed")
    assert short.offset_us <= 300_000
