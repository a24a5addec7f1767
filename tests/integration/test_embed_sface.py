"""SFace, the default embedder, on real photos; and catalogs never mixing vector spaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faceorganizer.config import Settings
from faceorganizer.core.library.scan import scan
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.vision.detect import HogDetector
from faceorganizer.core.vision.embed_sface import CHIP, SCALE, SfaceEmbedder, sface_chip
from faceorganizer.core.vision.images import load_photo
from faceorganizer.core.vision.model_files import DLIB_RESNET, SFACE

PEOPLE = ("Ben_Affleck", "Madonna", "Steve_Wozniak", "deepface_person_01")


@pytest.fixture(scope="module")
def largest_faces(faces_dev: Path) -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    """(RGB image, person, dlib 5 points of its largest face) for 4 photos of 4 people."""
    hog = HogDetector(upsample=1)
    images, people, points = [], [], []
    for person in PEOPLE:
        for path in sorted((faces_dev / person).iterdir())[:4]:
            photo = load_photo(path, 1600)
            faces = hog.detect(photo.rgb)
            if faces:
                largest = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
                images.append(photo.rgb)
                people.append(person)
                points.append(largest.landmarks)
    return images, people, points


def test_every_face_is_nearest_to_its_own_person(largest_faces) -> None:
    images, people, points = largest_faces
    assert len(people) >= 14
    embedder = SfaceEmbedder(threads=1)
    vectors = np.concatenate(
        [embedder.embed(rgb, [p]) for rgb, p in zip(images, points, strict=True)]
    )
    assert vectors.shape == (len(people), 128)
    assert np.allclose(np.linalg.norm(vectors, axis=1), SCALE, atol=1e-4)
    d = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert [people[j] for j in d.argmin(axis=1)] == people


def test_chip_is_aligned_for_large_and_small_faces(largest_faces) -> None:
    images, _, points = largest_faces
    for rgb, p in zip(images, points, strict=True):
        for factor in (1.0, 0.25):  # the same face at a quarter size: no pre-shrink
            small = rgb[:: int(1 / factor), :: int(1 / factor)] if factor < 1 else rgb
            chip = sface_chip(np.ascontiguousarray(small), p * factor)
            assert chip.shape == (CHIP, CHIP, 3) and chip.dtype == np.uint8
            assert chip[40:70, 30:80].std() > 10  # eyes and nose inside, not padding


def test_a_catalog_keeps_the_vector_space_it_started_with(
    small_library: Path, faces_dev: Path, tmp_path: Path
) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite", root=small_library)
    try:
        for _ in scan(catalog, small_library, Settings(embedder="onnx")):
            pass
        assert catalog.dominant_model() == DLIB_RESNET
        shutil.copy2(
            faces_dev / "Madonna" / sorted(p.name for p in (faces_dev / "Madonna").iterdir())[0],
            small_library / "new.jpg",
        )
        for _ in scan(catalog, small_library, Settings()):  # default: SFace
            pass
        models = {row[0] for row in catalog.db.execute("SELECT model FROM faces")}
        assert models == {DLIB_RESNET}
    finally:
        catalog.close()
    fresh = Catalog(tmp_path / "fresh.sqlite", root=small_library)
    try:
        for _ in scan(fresh, small_library, Settings()):
            pass
        assert fresh.dominant_model() == SFACE
    finally:
        fresh.close()
