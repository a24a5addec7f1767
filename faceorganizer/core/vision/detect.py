"""Face detection and landmarks behind one small interface, so backends can be swapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import dlib
import numpy as np

from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.model_cache import frontal_face_detector

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Detection:
    box: Box  # in the pixels of the image given to ``detect``
    score: float
    landmarks: np.ndarray  # (5, 2) float32, same pixels
    yaw: float | None = None  # how far the head is turned (detect_yunet.yaw_of); None unknown


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: how much they are the same face."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class FivePoints:
    """dlib's 5-point landmark model (eye corners, the point under the nose) on a face box."""

    def __init__(self) -> None:
        self._predictor = dlib.shape_predictor(str(model_files.shape_predictor_5()))

    def __call__(self, rgb: np.ndarray, rect: dlib.rectangle) -> np.ndarray:
        """(5, 2) float32 points in ``rgb``'s pixels."""
        shape = self._predictor(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


class Detector(Protocol):
    name: str

    def detect(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        """Faces in ``rgb``, a photo shrunk by ``scale`` (working px per original px).

        ``scale`` lets a detector behave as it would on the full-size original."""
        ...


class HogDetector:
    """dlib's HOG + linear SVM detector with dlib's 5-point landmarks.

    HOG finds faces of about 80 px and larger; ``upsample`` doubles the image first to
    find smaller ones at four times the cost. ``None`` upsamples only small images, where
    faces are small in pixels.
    """

    name = "hog"

    def __init__(self, upsample: int | None = None, small_side: int = 1000) -> None:
        self.upsample = upsample
        self.small_side = small_side
        self._detector = frontal_face_detector()
        self._landmarks = FivePoints()

    def _upsample_for(self, rgb: np.ndarray) -> int:
        if self.upsample is not None:
            return self.upsample
        return 1 if max(rgb.shape[:2]) < self.small_side else 0

    def detect(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        rects, scores, _ = self._detector.run(rgb, self._upsample_for(rgb), 0.0)
        found = []
        for rect, score in zip(rects, scores, strict=True):
            points = self._landmarks(rgb, rect)
            box = (float(rect.left()), float(rect.top()), float(rect.right()), float(rect.bottom()))
            found.append(Detection(box, float(score), points))
        return found
