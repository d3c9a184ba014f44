"""Procedural 2-D face renderer (OpenCV, anti-aliased, sub-pixel precise).

:class:`FaceRenderer` draws a :class:`~microexp.sim.subject.Subject` with a given
:class:`~microexp.sim.au_motion.FaceParams` at a camera's resolution. Shapes are polygons in face
units, transformed to pixels with the subject's placement and the head pose, and filled with
``cv2.LINE_AA`` at 1/16-pixel precision, so sub-pixel motion changes pixel values smoothly (what an
event camera needs). The static background is rendered once. Output: float32 reflectance image in
[0, 1] (linear); lighting is applied by the caller.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from microexp.sim.au_motion import FaceParams
from microexp.sim.subject import Subject

__all__ = ["FaceRenderer"]

_SHIFT = 4
_ONE = 1 << _SHIFT
_N_ARC = 40
_S = np.linspace(0.0, 1.0, 13)  # parameter along eyes, brows, lips
_SIN = np.sin(np.pi * _S)


_TRIG: dict[tuple[float, float, int], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}


def _ellipse(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    a0: float = 0.0,
    a1: float = 2 * np.pi,
    n: int = _N_ARC,
) -> npt.NDArray[np.float64]:
    key = (a0, a1, n)
    trig = _TRIG.get(key)
    if trig is None:
        a = np.linspace(a0, a1, n)
        trig = _TRIG.setdefault(key, (np.cos(a), np.sin(a)))
    out = np.empty((n, 2))
    out[:, 0] = cx + rx * trig[0]
    out[:, 1] = cy + ry * trig[1]
    return out


class FaceRenderer:
    """Renders one subject for one camera geometry; reuse it for every frame of that camera."""

    def __init__(
        self,
        subject: Subject,
        *,
        width: int,
        height: int,
        zoom: float = 1.0,
        blur_sigma_px: float = 0.6,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"render size must be positive, got {width}x{height}")
        self.subject = subject
        self.width = width
        self.height = height
        self.zoom = zoom
        self.blur_sigma_px = blur_sigma_px
        self._px_per_unit = subject.scale * zoom * height / 2.0
        self._cx = width / 2.0 + subject.center_x * zoom * height / 2.0
        self._cy = height / 2.0 + subject.center_y * zoom * height / 2.0
        self._background = self._make_background()
        self._canvas = np.empty_like(self._background)
        self._m = np.eye(2)
        self._t = np.zeros(2)

    # -- helpers -------------------------------------------------------------------------------
    def _make_background(self) -> npt.NDArray[np.uint8]:
        """Wall with a gentle gradient and a few soft blotches (static texture: a still scene)."""
        h, w = self.height, self.width
        rng = np.random.default_rng(7)
        yy = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
        xx = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
        base = self.subject.background * (1.0 + 0.12 * yy * 0.5 - 0.06 * xx)
        small = rng.normal(0.0, 0.04, size=(12, 16)).astype(np.float32)
        texture = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        img = np.clip(base * (1.0 + texture), 0.0, 1.0)
        out = (img * 255.0 + 0.5).astype(np.uint8)
        # shoulders (static: the body does not follow the small head motions)
        s = self._px_per_unit
        shoulders = _ellipse(0.0, 2.15, 1.9, 0.9, np.pi, 2 * np.pi)
        pts = np.column_stack([self._cx + shoulders[:, 0] * s, self._cy + shoulders[:, 1] * s])
        pts = np.vstack([pts, [[self._cx + 1.9 * s, h + 10.0], [self._cx - 1.9 * s, h + 10.0]]])
        cv2.fillPoly(out, [np.round(pts * _ONE).astype(np.int32)], 40, cv2.LINE_AA, _SHIFT)
        return out

    def _to_px(self, pts: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
        return np.round((pts @ self._m.T + self._t) * _ONE).astype(np.int32)

    def _fill(self, pts: npt.NDArray[np.float64], value: float) -> None:
        cv2.fillPoly(
            self._canvas,
            [self._to_px(pts)],
            int(min(max(value, 0.0), 1.0) * 255 + 0.5),
            cv2.LINE_AA,
            _SHIFT,
        )

    def _line(self, pts: npt.NDArray[np.float64], value: float, thick_units: float) -> None:
        """A stroke drawn as a filled band (its width scales with resolution)."""
        d = np.empty_like(pts)
        d[1:-1] = pts[2:] - pts[:-2]
        d[0] = pts[1] - pts[0]
        d[-1] = pts[-1] - pts[-2]
        nrm = np.stack([-d[:, 1], d[:, 0]], axis=1)
        nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
        half = 0.5 * thick_units
        band = np.vstack([pts + half * nrm, (pts - half * nrm)[::-1]])
        self._fill(band, value)

    # -- rendering -----------------------------------------------------------------------------
    def render(self, params: FaceParams) -> npt.NDArray[np.float32]:
        """The scene's reflectance (float32, H x W, linear, [0, 1]) with the face in ``params``."""
        sj = self.subject
        p = params
        s = self._px_per_unit
        c, sn = np.cos(p.roll), np.sin(p.roll)
        self._m = s * np.array([[c, -sn], [sn, c]])
        self._t = np.array([self._cx, self._cy]) + self._m @ np.array([p.head_dx, p.head_dy])
        np.copyto(self._canvas, self._background)
        skin = sj.skin
        rx = sj.head_rx * (1.0 - 0.06 * abs(p.yaw))
        ox = 0.05 * p.yaw  # outline shift with yaw
        oy = 0.05 * p.pitch
        fx = 0.2 * p.yaw  # feature shift with yaw / pitch
        fy = 0.14 * p.pitch
        jaw = 0.13 * p.jaw_drop

        # neck, ears, hair behind, head
        self._fill(np.array([[-0.32, 0.5], [0.32, 0.5], [0.36, 1.9], [-0.36, 1.9]]), skin * 0.75)
        for side in (-1.0, 1.0):
            self._fill(_ellipse(ox + side * rx * 0.98, oy - 0.05, 0.1, 0.2, n=20), skin * 0.85)
        self._fill(_ellipse(ox, oy - 0.1, rx * 1.06, 1.0, np.pi, 2 * np.pi), sj.hair)
        upper = _ellipse(ox, oy, rx, 1.0, np.pi, 2 * np.pi)
        lower = _ellipse(ox, oy, rx, 1.0 + jaw, 0.0, np.pi)
        clench = 0.025 * p.jaw_clench
        a = np.linspace(0.0, np.pi, _N_ARC)
        lower[:, 0] += clench * (
            np.exp(-(((a - 0.55) / 0.25) ** 2)) - np.exp(-(((a - np.pi + 0.55) / 0.25) ** 2))
        )
        self._fill(np.vstack([upper, lower]), skin)
        # hair cap above the hairline
        hy = sj.hairline_y
        th0 = np.arcsin(min(-hy / 1.0, 0.999))
        cap = _ellipse(ox, oy, rx, 1.0, np.pi + th0, 2 * np.pi - th0, n=30)
        uh = rx * np.cos(th0)
        u = np.linspace(uh, -uh, 15)
        hair_line = np.column_stack([ox + u, oy + hy - 0.05 * (1.0 - (u / uh) ** 2)])
        self._fill(np.vstack([cap, hair_line]), sj.hair)

        self._draw_cheeks(p, fx, fy)
        self._draw_eyes(p, fx, fy)
        self._draw_brows(p, fx, fy)
        self._draw_nose(p, fx, fy)
        self._draw_mouth(p, fx, fy, jaw)
        self._draw_chin(p, fx, fy, jaw)
        if sj.glasses:
            self._draw_glasses(fx, fy)

        out = self._canvas.astype(np.float32)
        out *= 1.0 / 255.0
        if self.blur_sigma_px > 0:
            cv2.GaussianBlur(out, (0, 0), self.blur_sigma_px, dst=out)
        return out

    def _draw_cheeks(self, p: FaceParams, fx: float, fy: float) -> None:
        sj = self.subject
        for side in (-1.0, 1.0):
            cx = fx + side * 0.38
            cy = fy + 0.12 + p.cheek_dy
            for k, (r, d) in enumerate(((0.15, 0.03), (0.1, 0.04), (0.06, 0.05))):
                shade = 1.0 + d * (1 + k) * (0.5 + p.cheek_shade)
                self._fill(_ellipse(cx, cy, r * 1.1, r, n=24), min(sj.skin * shade, 1.0))
            # nasolabial fold: nose wing to mouth corner
            t = np.linspace(0.0, 1.0, 8)
            x0, y0 = fx + side * 0.11, fy + sj.nose_y + 0.02
            x1 = fx + side * (sj.mouth_w + 0.05 + p.corner_dx)
            y1 = fy + sj.mouth_y + 0.03 + p.corner_dy * 0.5
            pts = np.column_stack(
                [x0 + (x1 - x0) * t + side * 0.04 * np.sin(np.pi * t), y0 + (y1 - y0) * t]
            )
            self._line(pts, sj.skin * (0.93 - 0.3 * p.nasolabial), 0.012 + 0.016 * p.nasolabial)

    def _draw_eyes(self, p: FaceParams, fx: float, fy: float) -> None:
        sj = self.subject
        w, h = sj.eye_w, sj.eye_h
        for side in (-1.0, 1.0):
            ex = fx + side * sj.eye_dx
            ey = fy + sj.eye_y
            xs = ex - w + 2 * w * _S
            y_low = ey + h * 0.8 * _SIN * (1.0 - 0.6 * p.lower_lid_raise)
            y_open = ey - h * _SIN
            y_up = y_low - (y_low - y_open) * p.upper_lid
            full_up = ey - h * 1.7 * _SIN
            self._fill(
                np.vstack(
                    [
                        np.column_stack([xs, full_up]),
                        np.column_stack([xs, ey + h * 0.8 * _SIN])[::-1],
                    ]
                ),
                0.8,
            )
            ix = ex + p.gaze_x * w * 0.45
            iy = ey + p.gaze_y * h * 0.5
            self._fill(_ellipse(ix, iy, h * 0.95, h * 0.95, n=24), sj.iris)
            self._fill(_ellipse(ix, iy, h * 0.4, h * 0.4, n=16), 0.02)
            m = 0.02
            top = ey - h * 2.4
            lid = np.vstack(
                [
                    [[xs[0] - m, y_up[0]]],
                    np.column_stack([xs, y_up]),
                    [[xs[-1] + m, y_up[-1]], [xs[-1] + m, top], [xs[0] - m, top]],
                ]
            )
            self._fill(lid, sj.skin * 0.96)
            bot = ey + h * 1.8
            low = np.vstack(
                [
                    [[xs[0] - m, y_low[0]]],
                    np.column_stack([xs, y_low]),
                    [[xs[-1] + m, y_low[-1]], [xs[-1] + m, bot], [xs[0] - m, bot]],
                ]
            )
            self._fill(low, sj.skin * 0.97)
            self._line(np.column_stack([xs, y_up]), 0.08, 0.012)  # lash line
            crease = y_up - h * (0.55 + 0.25 * min(p.upper_lid, 1.0))
            self._line(np.column_stack([xs[2:-2], crease[2:-2]]), sj.skin * 0.8, 0.008)

    def _draw_brows(self, p: FaceParams, fx: float, fy: float) -> None:
        sj = self.subject
        for side in (-1.0, 1.0):
            x_in = fx + side * (0.1 - p.brow_inner_dx)
            x_out = fx + side * (sj.eye_dx + sj.eye_w + 0.05)
            xs = x_in + (x_out - x_in) * _S
            y_ctrl = np.array([p.brow_inner_dy, p.brow_mid_dy - 0.03, p.brow_outer_dy + 0.01])
            ys = fy + sj.brow_y + np.interp(_S, [0.0, 0.5, 1.0], y_ctrl)
            half = sj.brow_thick * (1.0 - 0.5 * _S) * 0.5
            self._fill(
                np.vstack(
                    [np.column_stack([xs, ys - half]), np.column_stack([xs, ys + half])[::-1]]
                ),
                sj.hair * 1.2,
            )
        if p.furrow > 0.01:
            for side in (-1.0, 1.0):
                x = fx + side * 0.04
                pts = np.array(
                    [[x, fy + sj.brow_y - 0.06], [x + side * 0.01, fy + sj.brow_y + 0.06]]
                )
                self._line(pts, sj.skin * (1.0 - 0.3 * p.furrow), 0.012 * p.furrow)

    def _draw_nose(self, p: FaceParams, fx: float, fy: float) -> None:
        sj = self.subject
        ny = fy + sj.nose_y
        bridge = np.array([[fx + 0.05, fy + sj.eye_y], [fx + 0.06, ny - 0.04]])
        self._line(bridge, sj.skin * 0.9, 0.015)
        self._fill(
            _ellipse(fx, ny - 0.02 + 0.5 * p.nostril_dy, 0.07, 0.05, n=24), min(sj.skin * 1.06, 1)
        )
        for side in (-1.0, 1.0):
            nx = fx + side * (0.055 + p.nostril_dx)
            self._fill(_ellipse(nx, ny + 0.02 + p.nostril_dy, 0.03, 0.014, n=16), sj.skin * 0.35)
            wing = _ellipse(
                fx + side * (0.09 + p.nostril_dx),
                ny + p.nostril_dy,
                0.03,
                0.035,
                np.pi * 0.5 - side * 0.9,
                np.pi * 0.5 + side * 0.9,
                n=10,
            )
            self._line(wing, sj.skin * 0.8, 0.01)
        if p.nose_wrinkle > 0.01:
            for k in range(3):
                y = fy + sj.eye_y + 0.04 + 0.035 * k
                pts = np.array([[fx - 0.06, y + 0.008], [fx, y - 0.004], [fx + 0.06, y + 0.008]])
                self._line(pts, sj.skin * (1.0 - 0.35 * p.nose_wrinkle), 0.01 * p.nose_wrinkle)

    def _draw_mouth(self, p: FaceParams, fx: float, fy: float, jaw: float) -> None:
        sj = self.subject
        my = fy + sj.mouth_y
        w = sj.mouth_w + p.corner_dx
        xs = fx + (2 * _S - 1.0) * w
        q = (2 * _S - 1.0) ** 2
        yc = my + p.corner_dy
        gap = jaw * 1.05 + 0.05 * p.mouth_open
        lower_dy = p.lower_lip_dy + p.chin_dy * 0.3
        top_c = my + p.upper_lip_dy - 0.25 * gap
        bot_c = my + lower_dy + 0.75 * gap
        ub = top_c * (1 - q) + yc * q
        lt = bot_c * (1 - q) + yc * q
        thin = 1.0 - p.lip_thin
        taper = (1 - q) ** 0.6
        ut = ub - sj.lip_thick * thin * taper * (1.0 - 0.25 * np.exp(-q * 40))
        lb = lt + sj.lip_thick * 1.25 * thin * taper
        if gap > 0.002:
            self._fill(
                np.vstack([np.column_stack([xs, ub]), np.column_stack([xs, lt])[::-1]]), 0.04
            )
            teeth = ub + np.minimum(gap * 0.45, 0.03) * taper
            self._fill(
                np.vstack([np.column_stack([xs, ub]), np.column_stack([xs, teeth])[::-1]]), 0.75
            )
        self._fill(np.vstack([np.column_stack([xs, ut]), np.column_stack([xs, ub])[::-1]]), sj.lips)
        self._fill(
            np.vstack([np.column_stack([xs, lt]), np.column_stack([xs, lb])[::-1]]),
            min(sj.lips * 1.08, 1.0),
        )
        self._line(
            np.column_stack([xs, 0.5 * (ub + lt)]) if gap <= 0.002 else np.column_stack([xs, ub]),
            sj.lips * 0.4,
            0.008,
        )

    def _draw_chin(self, p: FaceParams, fx: float, fy: float, jaw: float) -> None:
        sj = self.subject
        cy = fy + 0.8 + jaw + p.chin_dy
        self._fill(_ellipse(fx, cy, 0.16, 0.09, n=24), min(sj.skin * 1.05, 1.0))
        if p.chin_wrinkle > 0.01:
            rng = np.random.default_rng(3)
            for dx, dy in rng.uniform(-0.08, 0.08, size=(6, 2)):
                self._fill(
                    _ellipse(fx + dx, cy + dy * 0.6, 0.012, 0.009, n=10),
                    sj.skin * (1.0 - 0.35 * p.chin_wrinkle),
                )
        if p.jaw_clench > 0.01:
            for side in (-1.0, 1.0):
                self._fill(
                    _ellipse(fx * 0.3 + side * (sj.head_rx - 0.12), 0.55, 0.07, 0.12, n=20),
                    sj.skin * (1.0 - 0.12 * p.jaw_clench),
                )

    def _draw_glasses(self, fx: float, fy: float) -> None:
        sj = self.subject
        r = sj.eye_w + 0.05
        for side in (-1.0, 1.0):
            ring = _ellipse(fx + side * sj.eye_dx, fy + sj.eye_y, r, r * 0.7, n=32)
            self._line(ring, 0.05, 0.022)
        self._line(
            np.array(
                [
                    [fx - sj.eye_dx + r, fy + sj.eye_y - 0.02],
                    [fx + sj.eye_dx - r, fy + sj.eye_y - 0.02],
                ]
            ),
            0.05,
            0.02,
        )
