"""Bounded property-based fuzzing of the decode/EXIF path and of export names.

Each property runs a fixed number of examples so CI time stays bounded; any input that
ever broke a property is pinned with ``@example`` as a regression test.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from faceorganizer.core.library.edits import Editor
from faceorganizer.core.library.export import Options, run_export, safe_folder_name
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.vision.images import ImageError, load_photo

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces-dev"
SEED_JPEG = (DATA / "Joe_Biden" / "frec__biden.jpg").read_bytes()
buffer = io.BytesIO()
Image.open(io.BytesIO(SEED_JPEG)).resize((64, 64)).save(buffer, "PNG")
SEED_PNG = buffer.getvalue()
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def mutate(seed: bytes, data: st.DataObject) -> bytes:
    """Flip, drop or insert bytes, or cut the file short."""
    blob = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 12))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        at = data.draw(st.integers(0, len(blob) - 1))
        if kind == "flip":
            blob[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del blob[at : at + data.draw(st.integers(1, 64))]
        elif kind == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=32))
        else:
            del blob[max(1, at) :]
        if len(blob) < 2:
            break
    return bytes(blob)


@FUZZ
@given(data=st.data(), seed=st.sampled_from([SEED_JPEG, SEED_PNG]))
def test_decoding_mutated_images_never_crashes(
    tmp_path: Path, data: st.DataObject, seed: bytes
) -> None:
    path = tmp_path / "fuzz.jpg"
    path.write_bytes(mutate(seed, data))
    try:
        photo = load_photo(path, max_side=256)
    except ImageError as exc:
        assert str(exc)
    else:
        assert photo.rgb.dtype == np.uint8 and photo.rgb.ndim == 3 and photo.rgb.shape[2] == 3
        assert 0 < photo.scale <= 1


@FUZZ
@given(orientation=st.integers(0, 65535), size=st.tuples(st.integers(1, 40), st.integers(1, 40)))
@example(orientation=0, size=(1, 1))
@example(orientation=9, size=(3, 2))
def test_any_exif_orientation_value_is_handled(
    tmp_path: Path, orientation: int, size: tuple[int, int]
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    Image.new("RGB", size, (200, 10, 10)).save(path, exif=exif)
    try:
        photo = load_photo(path)
    except ImageError:
        return
    assert sorted(photo.rgb.shape[:2]) == sorted(size[::-1])


RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$", re.IGNORECASE)


@settings(max_examples=500, deadline=None)
@given(name=st.text(max_size=300))
@example(name="..")
@example(name="LPT9.txt")
@example(name="a\x00b")
def test_folder_names_are_safe_everywhere(name: str) -> None:
    folder = safe_folder_name(name, "Person 001")
    assert folder and len(folder) <= 100
    assert not re.search(r'[\x00-\x1f<>:"/\\|?*]', folder)
    assert folder not in (".", "..")
    assert not folder.endswith((".", " "))
    assert not RESERVED.match(folder)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.text(min_size=0, max_size=40), min_size=2, max_size=2))
@example(names=["Anna", "anna"])
@example(names=["CON", "con."])
def test_export_with_any_person_names(catalog: Catalog, tmp_path_factory, names: list[str]) -> None:
    """Any two names export into two distinct folders without losing a photo."""
    editor = Editor(catalog)
    people = catalog.persons()[:2]
    for person, name in zip(people, names, strict=True):
        editor.rename(person.id, name)
    dest = tmp_path_factory.mktemp("out")
    report = run_export(catalog, dest, Options())
    folders = [p for p in dest.iterdir() if p.is_dir()]
    assert len(folders) == report.people == len(catalog.persons())
    assert not report.failed
    for _ in names:
        editor.undo()
