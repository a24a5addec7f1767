"""The cascade (MTCNN proposes, HOG confirms) finds face_recognition's faces, with its boxes."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image

from faceorganizer.core.vision.detect import Detector, iou
from faceorganizer.core.vision.detect_cascade import CascadeDetector
from faceorganizer.core.vision.images import load_photo
from faceorganizer.core.vision.model_cache import cached_frontal_detector

# group photos of several sizes (one larger than the working size), a tiny LFW-like
# portrait and photos where face_recognition finds nothing
PHOTOS = [
    "_group/deepface__selfie-many-people.jpg",
    "_group/facenetpt__multiface.jpg",
    "_group/frec__obama_and_biden.jpg",
    "_group/opencvcourse__group_1.jpg",
    "_group/opencvcourse__group_2.jpg",
    "George_W_Bush/lfw__George_W_Bush_0001.jpg",
    "Paul_Allen/frec_pr1285__paul_allen.jpg",
    "_noface/opencvcourse__cats.jpg",
    "_noface/facenetpt__noise_1.jpg",
]


@pytest.fixture(scope="module")
def cascade() -> CascadeDetector:
    return CascadeDetector()


def reference_boxes(path: Path) -> list[tuple[float, float, float, float]]:
    """What face_recognition.face_locations finds: full resolution, HOG upsampled once."""
    image = np.array(Image.open(path).convert("RGB"))
    return [
        (r.left(), r.top(), r.right(), r.bottom())
        for r in dlib.get_frontal_face_detector()(image, 1)
    ]


def test_finds_the_faces_face_recognition_finds(faces_dev: Path, cascade: CascadeDetector) -> None:
    overlaps = []
    for name in PHOTOS:
        photo = load_photo(faces_dev / name, 1600)
        found = cascade.detect(photo.rgb, photo.scale)
        boxes = [tuple(v / photo.scale for v in face.box) for face in found]
        expected = reference_boxes(faces_dev / name)
        assert len(boxes) == len(expected), name
        overlaps += [max(iou(box, other) for other in boxes) for box in expected]
    # HOG's own boxes up to resampling: at worst one pyramid level (5/6) apart, mostly equal
    # (measured: 20 faces, smallest overlap 0.675, median 0.899)
    assert len(overlaps) >= 20
    assert min(overlaps) > 0.65
    assert np.median(overlaps) > 0.88


def test_landmarks_sit_inside_their_box(faces_dev: Path, cascade: CascadeDetector) -> None:
    photo = load_photo(faces_dev / "_group/frec__obama_and_biden.jpg", 1600)
    detector: Detector = cascade
    for face in detector.detect(photo.rgb, photo.scale):
        x0, y0, x1, y1 = face.box
        assert face.landmarks.shape == (5, 2)
        assert (face.landmarks[:, 0] > x0).all() and (face.landmarks[:, 0] < x1).all()
        assert (face.landmarks[:, 1] > y0).all() and (
            face.landmarks[:, 1] < y1 + 0.2 * (y1 - y0)
        ).all()


def test_blank_tiny_and_odd_images(cascade: CascadeDetector) -> None:
    assert cascade.detect(np.zeros((5, 7, 3), np.uint8)) == []
    assert cascade.detect(np.full((300, 200, 3), 128, np.uint8)) == []
    assert cascade.detect(np.full((1, 4000, 3), 255, np.uint8)) == []


def _corners(rect: dlib.rectangle) -> tuple[int, int, int, int]:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def test_cached_hog_detector_is_dlibs_own(faces_dev: Path, tmp_path: Path) -> None:
    """Workers load HOG from a file saved once (1 ms, not 0.25 s): it must be the very
    detector get_frontal_face_detector builds, scores and sub-detectors included."""
    path = cached_frontal_detector(tmp_path)
    stamp = path.stat().st_mtime_ns
    assert cached_frontal_detector(tmp_path) == path and path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind
    cached, builtin = dlib.fhog_object_detector(str(path)), dlib.get_frontal_face_detector()
    found = 0
    for name in PHOTOS:
        image = load_photo(faces_dev / name, 1600).rgb
        ours, theirs = cached.run(image, 1, -0.5), builtin.run(image, 1, -0.5)  # weak ones too
        assert [_corners(r) for r in ours[0]] == [_corners(r) for r in theirs[0]], name
        assert list(ours[1]) == list(theirs[1]) and list(ours[2]) == list(theirs[2]), name
        found += len(ours[0])
    assert found >= 25  # measured: 26
