"""Decoding real and broken files: orientation, reduced size, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceorganizer.core.vision.detect import HogDetector
from faceorganizer.core.vision.images import ImageError, load_photo, photo_thumbnail

OBAMA = "Barack_Obama/frec__obama.jpg"


def rotated_copy(source: Path, target: Path, orientation: int) -> None:
    """Store the photo's pixels so that EXIF ``orientation`` shows them upright again."""
    undo = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }[orientation]
    image = Image.open(source)
    for step in undo:
        image = image.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(target, "JPEG", exif=exif, quality=95)


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_gives_upright_faces(
    faces_dev: Path, tmp_path: Path, orientation: int
) -> None:
    target = tmp_path / f"o{orientation}.jpg"
    rotated_copy(faces_dev / OBAMA, target, orientation)
    upright = load_photo(faces_dev / OBAMA)
    photo = load_photo(target)
    assert photo.rgb.shape == upright.rgb.shape
    assert np.abs(photo.rgb.astype(int) - upright.rgb.astype(int)).mean() < 6
    assert len(HogDetector().detect(photo.rgb)) == 1


def test_large_jpeg_is_decoded_at_reduced_size(faces_dev: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    Image.open(faces_dev / OBAMA).resize((3640, 4548)).save(big, quality=90)
    photo = load_photo(big, max_side=1600)
    assert max(photo.rgb.shape[:2]) == 1600
    assert photo.original_size == (3640, 4548)
    assert photo.scale == pytest.approx(1600 / 4548, rel=1e-3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an image"),
        (b"hello, I am a text file pretending to be a JPEG", "not an image"),
        ("truncated", "corrupt or truncated"),
    ],
)
def test_bad_files_raise_clear_errors(
    faces_dev: Path, tmp_path: Path, content: bytes | str, message: str
) -> None:
    path = tmp_path / "bad.jpg"
    if content == "truncated":
        data = (faces_dev / OBAMA).read_bytes()
        content = data[: len(data) // 3]
    path.write_bytes(content)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match=message):
        load_photo(path)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK", "I;16", "LA"])
def test_every_pixel_mode_becomes_rgb(faces_dev: Path, tmp_path: Path, mode: str) -> None:
    image = Image.open(faces_dev / OBAMA)
    path = tmp_path / f"m.{'tiff' if mode in ('CMYK', 'I;16') else 'png'}"
    converted = image.convert("L").convert("I;16") if mode == "I;16" else image.convert(mode)
    converted.save(path)
    photo = load_photo(path)
    assert photo.rgb.dtype == np.uint8 and photo.rgb.shape[2] == 3


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    path = tmp_path / "bomb.png"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImageError, match="too large"):
        load_photo(path)


def test_photo_thumbnail_is_upright_and_small(faces_dev: Path, tmp_path: Path) -> None:
    target = tmp_path / "o6.jpg"
    rotated_copy(faces_dev / OBAMA, target, 6)
    with Image.open(faces_dev / OBAMA) as original:
        width, height = original.size
    with Image.open(io.BytesIO(photo_thumbnail(target, 200))) as thumb:
        assert max(thumb.size) == 200
        assert thumb.size[0] / thumb.size[1] == pytest.approx(width / height, rel=0.02)
