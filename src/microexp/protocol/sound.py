"""Synthesised protocol sounds (numpy sines) and audio sinks.

Countdown: one short tick per second shown; perform: a higher "go" beep; end of the perform
window: a double beep. Headless runs write them to a WAV track aligned with the video's time
(frame 0 = sample 0); live playback goes through an injected :class:`AudioSink` (none by default:
this core has no audio device dependency).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "SAMPLE_RATE",
    "AudioSink",
    "NullSink",
    "PygameAudio",
    "WavTrack",
    "double_beep",
    "go_beep",
    "tick",
    "tone",
]

SAMPLE_RATE = 48_000
Samples = npt.NDArray[np.float32]


def tone(
    freq_hz: float,
    duration_s: float,
    *,
    rate: int = SAMPLE_RATE,
    amplitude: float = 0.5,
    fade_s: float = 0.004,
) -> Samples:
    """A sine burst with short linear fades (no clicks)."""
    n = round(duration_s * rate)
    t = np.arange(n, dtype=np.float64) / rate
    y = amplitude * np.sin(2 * np.pi * freq_hz * t)
    k = min(round(fade_s * rate), n // 2)
    if k:
        ramp = np.linspace(0.0, 1.0, k)
        y[:k] *= ramp
        y[n - k :] *= ramp[::-1]
    return y.astype(np.float32)


def tick(rate: int = SAMPLE_RATE) -> Samples:
    return tone(880.0, 0.08, rate=rate)


def go_beep(rate: int = SAMPLE_RATE) -> Samples:
    return tone(1320.0, 0.2, rate=rate)


def double_beep(rate: int = SAMPLE_RATE) -> Samples:
    b = tone(1000.0, 0.12, rate=rate)
    gap = np.zeros(round(0.08 * rate), np.float32)
    return np.concatenate([b, gap, b])


class AudioSink(Protocol):
    def play(self, samples: Samples, *, at_ns: int) -> None: ...


class NullSink:
    """Plays nothing (headless without a WAV track)."""

    def play(self, samples: Samples, *, at_ns: int) -> None:
        return None


class PygameAudio:
    """Plays each sound at once through ``pygame.mixer`` (optional dependency); the player calls
    ``play`` right after the frame was shown, so ``at_ns`` is now."""

    def __init__(self, *, rate: int = SAMPLE_RATE) -> None:
        try:
            import pygame  # optional dependency
        except ImportError as err:
            from microexp.errors import ConfigError

            raise ConfigError("no audio backend: install pygame or run without sound") from err
        self._pg = pygame
        pygame.mixer.init(frequency=rate, size=-16, channels=1)
        self._sounds: list[object] = []  # keep references while playing

    def play(self, samples: Samples, *, at_ns: int) -> None:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        snd = self._pg.sndarray.make_sound(pcm)
        snd.play()
        self._sounds = [*self._sounds[-7:], snd]

    def close(self) -> None:
        self._pg.mixer.quit()


class WavTrack:
    """Mixes sounds at their times into one mono track; ``write`` saves 16-bit PCM.

    Sounds are kept as (sample index, samples) and mixed once, when the track is read."""

    def __init__(self, *, start_ns: int, rate: int = SAMPLE_RATE) -> None:
        self.start_ns, self.rate = start_ns, rate
        self._parts: list[tuple[int, Samples]] = []
        self._length = 0
        self.cues: list[tuple[int, int]] = []  # (at_ns, n_samples)

    def _index(self, t_ns: int) -> int:
        return round((t_ns - self.start_ns) * self.rate / 1e9)

    def play(self, samples: Samples, *, at_ns: int) -> None:
        i = self._index(at_ns)
        if i < 0:
            return
        self._parts.append((i, samples))
        self._length = max(self._length, i + len(samples))
        self.cues.append((at_ns, len(samples)))

    def pad_to(self, t_ns: int) -> None:
        self._length = max(self._length, self._index(t_ns))

    def samples(self) -> Samples:
        buf = np.zeros(self._length, np.float32)
        for i, part in self._parts:
            buf[i : i + len(part)] += part
        return buf

    def write(self, path: Path) -> None:
        pcm = (np.clip(self.samples(), -1.0, 1.0) * 32767).astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(pcm.tobytes())
