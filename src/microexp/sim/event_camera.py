"""Event camera model in the style of ESIM / v2e (vectorised numpy).

Each pixel keeps a reference log intensity. Between two rendered frames the log intensity is
interpolated linearly; every crossing of the pixel's ON (OFF) threshold above (below) the
reference emits one event at the interpolated crossing time, and the reference moves by one
threshold per crossing, so a large change gives several events per frame interval. Thresholds
vary per pixel (Gaussian mismatch). A pixel is blind for ``refractory_us`` after each event.
Background activity is a Poisson process per pixel; a few hot pixels fire at a high rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microexp.events.types import EVENT_DTYPE, EventArray

__all__ = ["EventCameraConfig", "EventCameraModel"]


@dataclass(frozen=True, slots=True)
class EventCameraConfig:
    """Parameters of the pixel model (log thresholds are natural-log units)."""

    c_on: float = 0.2
    c_off: float = 0.2
    c_sigma: float = 0.03  # per-pixel threshold mismatch (std, log units)
    c_min: float = 0.01
    refractory_us: int = 100
    ba_rate_hz: float = 0.1  # background activity per pixel
    hot_pixel_fraction: float = 1e-4
    hot_pixel_rate_hz: float = 50.0
    log_eps: float = 1e-3  # log(I + eps): dark pixels stay finite

    def __post_init__(self) -> None:
        for name in ("c_on", "c_off", "c_min"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in (
            "c_sigma",
            "ba_rate_hz",
            "hot_pixel_fraction",
            "hot_pixel_rate_hz",
            "refractory_us",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


class EventCameraModel:
    """A stateful sensor: :meth:`reset` with a first frame, then :meth:`step` per frame."""

    def __init__(self, config: EventCameraConfig, *, width: int, height: int, seed: int) -> None:
        self.config = config
        self.width = width
        self.height = height
        self._rng = np.random.default_rng(seed)
        n = width * height
        rng = self._rng
        self._c_on = np.maximum(rng.normal(config.c_on, config.c_sigma, n), config.c_min)
        self._c_off = np.maximum(rng.normal(config.c_off, config.c_sigma, n), config.c_min)
        n_hot = round(config.hot_pixel_fraction * n)
        self.hot_pixels = np.sort(rng.choice(n, size=n_hot, replace=False)).astype(np.int64)
        # the smallest threshold of any pixel: a cheap first filter of the pixels that may fire
        self._c_floor = float(min(self._c_on.min(), self._c_off.min())) if n else config.c_min
        self._ref = np.zeros(n, dtype=np.float32)
        self._last_log = np.zeros(n, dtype=np.float32)
        self._last_event_us = np.full(n, np.iinfo(np.int64).min // 2, dtype=np.int64)
        self._t_us = 0

    @property
    def t_us(self) -> int:
        """Time of the last frame seen."""
        return self._t_us

    def _log(self, frame: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        if frame.shape != (self.height, self.width):
            raise ValueError(f"frame shape {frame.shape} != sensor {(self.height, self.width)}")
        out = frame.astype(np.float32).reshape(-1)  # a copy: the caller's frame stays as it is
        out += np.float32(self.config.log_eps)
        return np.log(out, out=out)

    def reset(self, frame: npt.NDArray[np.floating], t_us: int) -> None:
        """Start (or restart) at ``t_us`` with every reference set to ``frame``."""
        self._ref = self._log(frame)
        self._last_log = self._ref.copy()
        self._last_event_us.fill(np.iinfo(np.int64).min // 2)
        self._t_us = int(t_us)

    def step(self, frame: npt.NDArray[np.floating], t_us: int) -> EventArray:
        """Events (time-sorted) between the previous frame and ``frame`` at ``t_us``."""
        t0 = self._t_us
        t1 = int(t_us)
        if t1 <= t0:
            raise ValueError(f"frame time {t1} µs is not after the previous frame at {t0} µs")
        log1 = self._log(frame)
        signal = self._signal_events(log1, t0, t1)
        noise = self._noise_events(t0, t1)
        self._last_log = log1
        self._t_us = t1
        out = np.concatenate([signal, noise]) if noise.size else signal
        return out[np.argsort(out["t"], kind="stable")]  # one sort of signal and noise

    def _signal_events(self, log1: npt.NDArray[np.float32], t0: int, t1: int) -> EventArray:
        ref = self._ref
        diff = log1 - ref
        # cheap pre-selection with the smallest threshold of any pixel, then exact per pixel
        np.abs(diff, out=diff)
        cand = np.flatnonzero(diff >= np.float32(self._c_floor))
        if cand.size == 0:
            return np.zeros(0, dtype=EVENT_DTYPE)
        d = log1[cand].astype(np.float64) - ref[cand]
        on = d > 0
        c = np.where(on, self._c_on[cand], self._c_off[cand])
        n = np.floor(np.abs(d) / c + 1e-5).astype(np.int64)  # float32 state: exact multiples count
        keep = n > 0
        if not keep.any():
            return np.zeros(0, dtype=EVENT_DTYPE)
        idx, n, c, on, d = cand[keep], n[keep], c[keep], on[keep], d[keep]
        sign = np.where(on, 1.0, -1.0)
        l0 = self._last_log[idx].astype(np.float64)
        dl = log1[idx] - l0
        r0 = ref[idx].astype(np.float64)
        ref[idx] = r0 + sign * n * c  # the reference follows every crossing
        # crossing k (1..n) at level r0 + sign*k*c; time by linear interpolation of log intensity
        dt = float(t1 - t0)
        safe = np.where(np.abs(dl) > 1e-12, dl, 1e-12)
        t_first = t0 + np.clip((r0 + sign * c - l0) / safe, 0.0, 1.0) * dt
        spacing = np.abs(c / safe) * dt  # µs between successive crossings
        refr = float(self.config.refractory_us)
        last = self._last_event_us[idx].astype(np.float64)
        # refractory: the first allowed crossing, then every m-th one
        k0 = 1 + np.maximum(0, np.ceil((last + refr - t_first) / np.maximum(spacing, 1e-9)))
        m = np.maximum(1, np.ceil(refr / np.maximum(spacing, 1e-9))).astype(np.int64)
        k0 = np.minimum(k0, np.iinfo(np.int32).max).astype(np.int64)
        count = np.where(k0 <= n, (n - k0) // m + 1, 0)
        total = int(count.sum())
        if total == 0:
            return np.zeros(0, dtype=EVENT_DTYPE)
        pix = np.repeat(np.arange(idx.size), count)
        j = np.arange(total) - np.repeat(np.cumsum(count) - count, count)  # 0.. within pixel
        k = k0[pix] + j * m[pix]
        t = np.minimum(t_first[pix] + (k - 1) * spacing[pix], t1)
        t_int = np.round(t).astype(np.int64)
        has = count > 0
        k_last = k0[has] + (count[has] - 1) * m[has]
        self._last_event_us[idx[has]] = np.round(
            np.minimum(t_first[has] + (k_last - 1) * spacing[has], t1)
        ).astype(np.int64)
        flat = idx[pix]
        out = np.empty(total, dtype=EVENT_DTYPE)
        out["x"] = flat % self.width
        out["y"] = flat // self.width
        out["t"] = t_int
        out["p"] = on[pix]
        return out  # unsorted: step() sorts once with the noise

    def _noise_events(self, t0: int, t1: int) -> EventArray:
        cfg = self.config
        dt_s = (t1 - t0) * 1e-6
        n_pix = self.width * self.height
        rng = self._rng
        n_ba = rng.poisson(cfg.ba_rate_hz * n_pix * dt_s) if cfg.ba_rate_hz > 0 else 0
        n_hot_each = (
            rng.poisson(cfg.hot_pixel_rate_hz * dt_s, self.hot_pixels.size)
            if self.hot_pixels.size
            else np.zeros(0, dtype=np.int64)
        )
        n_hot = int(n_hot_each.sum())
        total = n_ba + n_hot
        if total == 0:
            return np.zeros(0, dtype=EVENT_DTYPE)
        flat = np.concatenate(
            [rng.integers(0, n_pix, n_ba), np.repeat(self.hot_pixels, n_hot_each)]
        )
        out = np.empty(total, dtype=EVENT_DTYPE)
        out["x"] = flat % self.width
        out["y"] = flat // self.width
        out["t"] = rng.integers(t0, t1, total, endpoint=False) if t1 > t0 else t0
        out["p"] = rng.integers(0, 2, total)
        return out
