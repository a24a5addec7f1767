"""Face embedding behind one small interface: a vector per face, tagged with its model."""

from __future__ import annotations

from typing import Protocol

import dlib
import numpy as np

from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.model_files import DLIB_RESNET


class Embedder(Protocol):
    model_id: str

    def embed(self, rgb: np.ndarray, landmarks: list[np.ndarray]) -> np.ndarray: ...


def _full_object_detection(points: np.ndarray) -> dlib.full_object_detection:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
    return dlib.full_object_detection(
        rect, [dlib.point(int(round(x)), int(round(y))) for x, y in points]
    )


class DlibEmbedder:
    """dlib's ResNet on dlib's aligned 150-px face chips (the reference implementation)."""

    model_id = DLIB_RESNET

    def __init__(self) -> None:
        self._net = dlib.face_recognition_model_v1(str(model_files.resnet_descriptor()))

    def embed(self, rgb: np.ndarray, landmarks: list[np.ndarray]) -> np.ndarray:
        if not landmarks:
            return np.zeros((0, 128), np.float32)
        shapes = dlib.full_object_detections()
        for points in landmarks:
            shapes.append(_full_object_detection(points))
        vectors = self._net.compute_face_descriptor(rgb, shapes)
        return np.array([np.array(v) for v in vectors], dtype=np.float32)
