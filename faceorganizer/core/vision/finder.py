"""Finding and embedding the faces of one photo: all a scan's worker process needs.

Kept apart from the pipeline so a spawned worker imports only the models, not the
catalog-wide clustering code (scipy, numba), and starts sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceorganizer.config import TURNED_YAW, Settings
from faceorganizer.core.store.catalog import FaceRecord
from faceorganizer.core.vision.detect import Detection, Detector, HogDetector
from faceorganizer.core.vision.detect_cascade import CascadeDetector
from faceorganizer.core.vision.detect_mtcnn import MtcnnDetector
from faceorganizer.core.vision.detect_yunet import YunetDetector
from faceorganizer.core.vision.embed import DlibEmbedder, Embedder
from faceorganizer.core.vision.embed_onnx import OnnxEmbedder
from faceorganizer.core.vision.embed_sface import WIDE_ZOOM, SfaceEmbedder
from faceorganizer.core.vision.images import ImageError, face_thumbnail, load_photo
from faceorganizer.core.vision.model_files import DLIB_RESNET, SFACE

EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "sface": lambda: SfaceEmbedder(threads=1),  # one process per core: one thread each
    "onnx": lambda: OnnxEmbedder(threads=1),
    "dlib": DlibEmbedder,
}
MODEL_OF_EMBEDDER = {"sface": SFACE, "onnx": DLIB_RESNET, "dlib": DLIB_RESNET}

DETECTORS: dict[str, Callable[[Settings], Detector]] = {
    "cascade": lambda settings: CascadeDetector(),
    "hog": lambda settings: HogDetector(),
    "mtcnn": lambda settings: MtcnnDetector(min_face=40),
    "yunet": lambda settings: YunetDetector(),
}


@dataclass(frozen=True)
class FileResult:
    faces: list[FaceRecord]
    size: tuple[int, int] | None
    error: str | None


class FaceFinder:
    """Decode → detect → landmarks → embed for one file; one instance per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detector: Detector = DETECTORS[settings.detector](settings)
        self.embedder: Embedder = EMBEDDERS[settings.embedder]()

    def process(self, path: Path) -> FileResult:
        """Never raises: any problem with the file becomes its error message."""
        try:
            return self._process(path)
        except ImageError as exc:
            return FileResult([], None, str(exc))
        except Exception as exc:  # a model failing on an odd image must not stop the scan
            return FileResult([], None, f"could not process: {exc}")

    def _process(self, path: Path) -> FileResult:
        photo = load_photo(path, self.settings.max_side)
        detections = self.detector.detect(photo.rgb, photo.scale)
        vectors = self.embedder.embed(photo.rgb, [d.landmarks for d in detections])
        wide = self._wide_vectors(photo.rgb, detections)
        faces = []
        for detection, vector, wide_vector in zip(detections, vectors, wide, strict=True):
            box = tuple(v / photo.scale for v in detection.box)
            faces.append(
                FaceRecord(
                    box=(box[0], box[1], box[2], box[3]),
                    score=detection.score,
                    landmarks=detection.landmarks / photo.scale,
                    thumb=face_thumbnail(photo, (box[0], box[1], box[2], box[3])),
                    embedding=vector,
                    model=self.embedder.model_id,
                    yaw=detection.yaw,
                    wide_embedding=wide_vector,
                )
            )
        return FileResult(faces, photo.original_size, None)

    def _wide_vectors(
        self, rgb: np.ndarray, detections: list[Detection]
    ) -> list[np.ndarray | None]:
        """SFace's descriptor from a wider crop (embed_sface.WIDE_ZOOM) of each turned
        face, None for the others: one more pass of the network for a turned face only."""
        wide: list[np.ndarray | None] = [None] * len(detections)
        if not isinstance(self.embedder, SfaceEmbedder):
            return wide
        turned = [
            i for i, d in enumerate(detections) if d.yaw is not None and abs(d.yaw) > TURNED_YAW
        ]
        if turned:
            points = [detections[i].landmarks for i in turned]
            for i, vector in zip(turned, self.embedder.embed(rgb, points, WIDE_ZOOM), strict=True):
                wide[i] = vector
        return wide


_finder: FaceFinder | None = None


def init_worker(settings: Settings) -> None:
    global _finder
    _finder = FaceFinder(settings)


def process_in_worker(path: Path) -> FileResult:
    assert _finder is not None
    return _finder.process(path)
