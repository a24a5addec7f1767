"""MTCNN proposes, dlib's HOG confirms: the faces HOG finds, at a fraction of its cost.

dlib's HOG detector is accurate on frontal faces but scans every position of an image
pyramid, which costs 0.2–1 s per photo. MTCNN on a small copy of the photo is several
times cheaper and misses few frontal faces, but it also reports turned, blurred and tiny
faces that HOG (and so face_recognition) would not, and its boxes differ from HOG's, on
which dlib's landmark model was trained. Here each MTCNN box is only a proposal: HOG runs
on a small crop around it, scaled so the face is about HOG's window size, and only faces
HOG confirms are kept, with HOG's own box and dlib's landmarks on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from faceorganizer.core.vision.detect import Box, Detection, FivePoints, iou
from faceorganizer.core.vision.detect_mtcnn import MtcnnDetector, hog_like_rect, nms
from faceorganizer.core.vision.model_cache import frontal_face_detector

HOG_FACE = 100  # face side in the crop HOG checks: just above its 80 px window
CONTEXT = 1.0  # crop margin on each side, in face sides: HOG needs the face's outline
MIN_OVERLAP = 0.3  # IoU between HOG's box and the proposal for it to confirm that face
MIN_FACE = 40  # HOG's window (80 px) on an image upsampled once, as face_recognition runs it


class CascadeDetector:
    """MTCNN proposals on a copy at most ``proposal_side`` px long, each checked by HOG.

    ``min_face`` is MTCNN's smallest face in the proposal copy: 1/20 of its long side, as
    the HOG default finds 80 px faces at 1600 px. P-Net's threshold is higher than when
    MTCNN decides alone (0.8, not 0.6: a third less time, no face lost on faces-dev) and
    O-Net's lower (0.5, not 0.8), since HOG rejects false alarms anyway.
    """

    name = "cascade"

    def __init__(self, proposal_side: int = 800, min_face: int = 40, threads: int = 1) -> None:
        self.proposal_side = proposal_side
        self._mtcnn = MtcnnDetector(min_face=min_face, thresholds=(0.8, 0.7, 0.5), threads=threads)
        self._hog = HogCheck()

    def detect(self, rgb: np.ndarray, scale: float = 1.0) -> list[Detection]:
        boxes, scores = [], []
        for proposal in self._proposals(rgb):
            confirmed = self._hog.confirm(rgb, hog_like_rect(proposal), scale)
            if confirmed is not None:
                boxes.append(confirmed[0])
                scores.append(confirmed[1])
        return [
            Detection(boxes[i], scores[i], self._hog.landmarks(rgb, boxes[i]))
            for i in distinct(boxes, scores)
        ]

    def _proposals(self, rgb: np.ndarray) -> np.ndarray:
        """MTCNN boxes in ``rgb``'s pixels, found on a copy no longer than proposal_side."""
        small, factor = shrunk(rgb, self.proposal_side)
        boxes, _ = self._mtcnn.detect_boxes(small)
        return boxes / factor


def shrunk(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """A copy no longer than ``side`` px (the image itself if it is not), and its scale."""
    height, width = rgb.shape[:2]
    factor = min(1.0, side / max(height, width, 1))
    if factor == 1.0:
        return rgb, factor
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), factor


def distinct(boxes: list[Box], scores: list[float]) -> list[int]:
    """Indices of the boxes to keep, one per face: two proposals may lead to one face."""
    return sorted(nms(np.array(boxes), np.array(scores), 0.5)) if boxes else []


class HogCheck:
    """dlib's HOG run on a small crop around a proposed face: its box if it sees a face
    there, and dlib's 5 points on that box (the box they were trained on)."""

    def __init__(self) -> None:
        self._hog = frontal_face_detector()
        self._landmarks = FivePoints()

    def confirm(
        self, rgb: np.ndarray, expected: dlib.rectangle, scale: float
    ) -> tuple[Box, float] | None:
        """HOG's box and score for the face expected at ``expected`` (the box HOG would
        draw around the proposal), if HOG finds one there.

        Sizes and zooms are reckoned in the original's pixels (``rgb`` is the original
        shrunk by ``scale``), as face_recognition would see the face."""
        side = expected.width()
        if side < MIN_FACE * scale:
            return None
        view = _View.around(rgb, expected, _pyramid_zoom(HOG_FACE / side * scale) / scale)
        if view is None:
            return None
        rects, scores, _ = self._hog.run(view.pixels, 0, 0.0)
        target = view.to_view(expected)
        best = max(
            (
                (score, rect)
                for rect, score in zip(rects, scores, strict=True)
                if iou(_corners(rect), target) >= MIN_OVERLAP
            ),
            key=lambda pair: pair[0],
            default=None,
        )
        return None if best is None else (view.to_image(best[1]), float(best[0]))

    def landmarks(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        """dlib's 5 points on a box HOG drew."""
        x0, y0, x1, y1 = box
        return self._landmarks(rgb, dlib.rectangle(round(x0), round(y0), round(x1), round(y1)))


@dataclass(frozen=True)
class _View:
    """A zoomed crop of the image, and the mapping between its pixels and the image's."""

    pixels: np.ndarray
    left: int
    top: int
    zoom: float

    @classmethod
    def around(cls, rgb: np.ndarray, rect: dlib.rectangle, zoom: float) -> _View | None:
        margin = CONTEXT * rect.width()
        height, width = rgb.shape[:2]
        left, top = max(0, int(rect.left() - margin)), max(0, int(rect.top() - margin))
        right = min(width, int(rect.right() + margin) + 1)
        bottom = min(height, int(rect.bottom() + margin) + 1)
        if right - left < 2 or bottom - top < 2:
            return None
        pixels = cv2.resize(
            rgb[top:bottom, left:right],
            (max(1, round((right - left) * zoom)), max(1, round((bottom - top) * zoom))),
            interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR,
        )
        return cls(pixels, left, top, zoom)

    # cv2.resize: view pixel c shows image pixel (c + 0.5) / zoom - 0.5
    def to_view(self, rect: dlib.rectangle) -> Box:
        z, x, y = self.zoom, self.left - 0.5, self.top - 0.5
        x0, y0, x1, y1 = _corners(rect)
        return ((x0 - x) * z - 0.5, (y0 - y) * z - 0.5, (x1 - x) * z - 0.5, (y1 - y) * z - 0.5)

    def to_image(self, rect: dlib.rectangle) -> Box:
        z, x, y = self.zoom, self.left - 0.5, self.top - 0.5
        x0, y0, x1, y1 = _corners(rect)
        return ((x0 + 0.5) / z + x, (y0 + 0.5) / z + y, (x1 + 0.5) / z + x, (y1 + 0.5) / z + y)


def _corners(rect: dlib.rectangle) -> Box:
    return (rect.left(), rect.top(), rect.right(), rect.bottom())


def _pyramid_zoom(wanted: float) -> float:
    """The zoom nearest ``wanted`` among the scales face_recognition's HOG looks at.

    It doubles the image and shrinks it by 5/6 per pyramid level; HOG's box sizes step
    with those levels, so matching them gives the same boxes, hence the same landmarks."""
    level = round(math.log(wanted / 2) / math.log(5 / 6))
    return 2 * (5 / 6) ** max(level, 0)
