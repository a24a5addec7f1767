"""Our dlib->ONNX converter and face-chip alignment against dlib itself, on real photos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
import pytest
from PIL import Image

from faceorganizer.core.vision import model_files
from faceorganizer.core.vision.align import chip_location, face_chip
from faceorganizer.core.vision.dlib_onnx import DlibFormatError, convert_resnet, read_dlib_resnet
from faceorganizer.core.vision.embed_onnx import OnnxEmbedder
from faceorganizer.core.vision.model_cache import cached_resnet_onnx


@dataclass
class Face:
    person: str
    rgb: np.ndarray
    shape: dlib.full_object_detection
    landmarks: np.ndarray  # (5, 2)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def faces(faces_dev: Path) -> list[Face]:
    """Faces found by dlib's HOG detector + 5-point predictor, one photo per folder."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(model_files.shape_predictor_5()))
    found = []
    for person in sorted(p for p in faces_dev.iterdir() if p.is_dir()):
        photos = sorted(f for f in person.iterdir() if f.suffix.lower() in (".jpg", ".png"))
        if not photos:
            continue
        rgb = np.asarray(Image.open(photos[0]).convert("RGB"))
        upsample = 1 if min(rgb.shape[:2]) < 500 else 0  # small photos, small faces
        for rect in detector(rgb, upsample):
            shape = predictor(rgb, rect)
            points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
            found.append(Face(person.name, rgb, shape, points))
    return found


@pytest.fixture(scope="module")
def recognizer() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(str(model_files.resnet_descriptor()))


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_resnet_onnx(cache_dir=tmp_path_factory.mktemp("onnx-cache"))


@pytest.fixture(scope="module")
def embedder(onnx_model: Path) -> OnnxEmbedder:
    return OnnxEmbedder(threads=2, model_path=onnx_model)


def test_sample_is_varied(faces: list[Face]) -> None:
    assert len(faces) >= 20
    assert len({f.person for f in faces}) >= 8
    # Some faces are big enough that dlib shrinks them through its image pyramid first.
    rects = [chip_location(f.landmarks)[0] for f in faces]
    widths = [right - left for left, _, right, _ in rects]
    assert max(widths) > 2 * 150 > min(widths)


def test_face_chip_matches_dlib(faces: list[Face]) -> None:
    for face in faces:
        ours = face_chip(face.rgb, face.landmarks).astype(int)
        theirs = dlib.get_face_chip(face.rgb, face.shape, size=150, padding=0.25).astype(int)
        assert ours.shape == theirs.shape == (150, 150, 3)
        # Measured: bit-identical on all 172 faces of faces-dev.
        assert np.abs(ours - theirs).mean() <= 0.01, face.person


def test_face_chip_matches_dlib_off_the_image_edge(faces: list[Face]) -> None:
    """Chips reaching past the image border are black there, exactly as in dlib."""
    face = faces[0]
    left = int(face.landmarks[:, 0].mean())  # cut the photo through the middle of the face
    rgb = np.ascontiguousarray(face.rgb[:, left:])
    points = face.landmarks - [left, 0]
    shape = dlib.full_object_detection(
        dlib.rectangle(0, 0, rgb.shape[1] - 1, rgb.shape[0] - 1),
        [dlib.point(int(x), int(y)) for x, y in points],
    )
    ours = face_chip(rgb, points)
    theirs = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
    assert (theirs == 0).all(axis=2).mean() > 0.2  # a real black margin
    assert np.abs(ours.astype(int) - theirs.astype(int)).mean() <= 0.01


def test_onnx_network_matches_dlib_on_same_chips(
    faces: list[Face], recognizer: dlib.face_recognition_model_v1, embedder: OnnxEmbedder
) -> None:
    chips = np.stack([dlib.get_face_chip(f.rgb, f.shape, size=150, padding=0.25) for f in faces])
    ours = embedder.embed_chips(chips)
    assert ours.shape == (len(faces), 128) and ours.dtype == np.float32
    for chip, vector in zip(chips, ours, strict=True):
        theirs = np.array(recognizer.compute_face_descriptor(chip))
        assert _cosine(vector, theirs) >= 0.9999
        assert np.abs(vector - theirs).max() < 1e-4  # measured ~3e-7


def test_onnx_embedder_matches_dlib_end_to_end(
    faces: list[Face], recognizer: dlib.face_recognition_model_v1, embedder: OnnxEmbedder
) -> None:
    for face in faces:
        ours = embedder.embed(face.rgb, [face.landmarks])
        assert ours.shape == (1, 128)
        theirs = np.array(recognizer.compute_face_descriptor(face.rgb, face.shape))
        assert _cosine(ours[0], theirs) >= 0.9999, face.person


def test_embed_batches_all_faces_of_an_image(faces: list[Face], embedder: OnnxEmbedder) -> None:
    by_image: dict[int, list[Face]] = {}
    for face in faces:
        by_image.setdefault(id(face.rgb), []).append(face)
    group = max(by_image.values(), key=len)
    assert len(group) >= 2
    together = embedder.embed(group[0].rgb, [f.landmarks for f in group])
    alone = np.concatenate([embedder.embed(f.rgb, [f.landmarks]) for f in group])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert embedder.embed(group[0].rgb, []).shape == (0, 128)


def test_conversion_is_deterministic_and_cached(tmp_path: Path) -> None:
    convert_resnet(model_files.resnet_descriptor(), tmp_path / "a.onnx")
    convert_resnet(model_files.resnet_descriptor(), tmp_path / "b.onnx")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()

    cache = tmp_path / "cache"
    first = cached_resnet_onnx(cache_dir=cache)
    stamp = first.stat().st_mtime_ns
    second = cached_resnet_onnx(cache_dir=cache)
    assert second == first and second.stat().st_mtime_ns == stamp  # reused, not redone
    assert first.read_bytes() == (tmp_path / "a.onnx").read_bytes()
    assert [p.name for p in cache.iterdir()] == [first.name]  # no temp files left behind


def test_truncated_model_file_is_rejected(tmp_path: Path) -> None:
    data = model_files.resnet_descriptor().read_bytes()
    broken = tmp_path / "broken.dat"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(DlibFormatError):
        read_dlib_resnet(broken)
