"""Mapping face boxes between camera views (e.g. DAVIS frames → EVK4 events, which have no frames).

A 3×3 homography ``H`` maps source pixels to target pixels (``[u, v, 1]ᵀ ~ H·[x, y, 1]ᵀ``); an
affine map is a homography with last row ``0 0 1``. The box's four corners are mapped and the
axis-aligned box around them taken. Calibrate once per rig (e.g. ``cv2.findHomography`` on
matched points of a checkerboard seen by both cameras) and put the matrix in the config:

.. code-block:: yaml

    view_mappings:
      evk4: {source: davis, matrix: [[3.2, 0, 85], [0, 3.2, -56], [0, 0, 1]]}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from microexp.dataset.config import ViewMappingConfig, from_mapping
from microexp.errors import ConfigError
from microexp.faces.types import Box

__all__ = ["ViewMapping"]


@dataclass(frozen=True)
class ViewMapping:
    """Homography from ``source`` camera pixels to ``target`` camera pixels."""

    source: str
    target: str
    matrix: np.ndarray  # [3, 3] float64

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float64)
        if m.shape != (3, 3) or not np.all(np.isfinite(m)) or abs(np.linalg.det(m)) < 1e-12:
            raise ConfigError(
                f"view mapping {self.source}->{self.target}: need an invertible 3x3 matrix, got {m.tolist()}"
            )
        object.__setattr__(self, "matrix", m)

    @classmethod
    def centered(
        cls, source: str, target: str, *, src_size: tuple[int, int], dst_size: tuple[int, int]
    ) -> ViewMapping:
        """Co-located cameras with the same vertical field of view and aligned optical axes:
        scale by the ratio of the image heights about the image centres (aspect kept). This is
        the simulator's geometry; a real rig needs a calibrated homography."""
        s = dst_size[1] / src_size[1]
        tx = dst_size[0] / 2.0 - s * src_size[0] / 2.0
        ty = dst_size[1] / 2.0 - s * src_size[1] / 2.0
        return cls(source, target, np.array([[s, 0.0, tx], [0.0, s, ty], [0.0, 0.0, 1.0]]))

    @classmethod
    def from_config(cls, target: str, cfg: ViewMappingConfig) -> ViewMapping:
        return cls(cfg.source, target, np.array(cfg.matrix, dtype=np.float64))

    @classmethod
    def from_yaml(cls, path: Path, target: str) -> ViewMapping:
        """Read ``{target: {source: ..., matrix: [[...]]}}`` (or a bare ``{source, matrix}``)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"{path}: cannot read view mapping: {err}") from err
        if isinstance(data, dict) and target in data:
            data = data[target]
        cfg = from_mapping(ViewMappingConfig, data, where=f"{path}:{target}")
        return cls.from_config(target, cfg)

    def map_points(self, pts: np.ndarray) -> np.ndarray:
        p = np.c_[np.asarray(pts, dtype=np.float64), np.ones(len(pts))] @ self.matrix.T
        return p[:, :2] / p[:, 2:3]

    def map_box(self, box: Box) -> Box:
        corners = np.array(
            [
                [box.x, box.y],
                [box.x + box.w, box.y],
                [box.x, box.y + box.h],
                [box.x + box.w, box.y + box.h],
            ],
            dtype=np.float64,
        )
        q = self.map_points(corners)
        x0, y0 = np.floor(q.min(axis=0))
        x1, y1 = np.ceil(q.max(axis=0))
        return Box(int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0)), box.score)
