"""The optional pygame window and audio backends (skipped without pygame), on SDL's dummy
video and audio drivers: frames reach the window surface, keys typed into it become commands."""

from __future__ import annotations

import numpy as np
import pytest

from microexp.protocol.clock import FakeClock
from microexp.protocol.sound import double_beep

pygame = pytest.importorskip("pygame", reason="pygame (optional window backend) not installed")


@pytest.fixture(autouse=True)
def _dummy_sdl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


def test_window_shows_frames_and_forwards_keys() -> None:
    from microexp.protocol.player import PygameWindow

    keys: list[str] = []
    clock = FakeClock(123)
    window = PygameWindow(clock=clock, width=96, height=64, on_key=keys.append)
    try:
        frame = np.zeros((64, 96, 3), np.uint8)
        frame[:, 48:] = (255, 0, 0)  # BGR blue on the right half
        for key in ("p", "d"):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=ord(key), unicode=key))
        assert window.show(frame, due_ns=100) == 123  # the clock right after flip()
        surface = pygame.display.get_surface()
        assert tuple(surface.get_at((10, 10)))[:3] == (0, 0, 0)
        assert tuple(surface.get_at((80, 10)))[:3] == (0, 0, 255)  # RGB blue
        assert keys == ["p", "d"]
    finally:
        window.close()


def test_audio_plays_synthesised_beeps() -> None:
    from microexp.protocol.sound import PygameAudio

    audio = PygameAudio()
    try:
        audio.play(double_beep(), at_ns=0)
        assert pygame.mixer.get_busy()
    finally:
        audio.close()
