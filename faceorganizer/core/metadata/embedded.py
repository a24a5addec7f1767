"""What a photo file says about itself, read from its header: XMP, orientation, date taken.

Pillow reads these without decoding pixels (``Image.open`` stops at the image data), so
this costs well under a millisecond a photo. Pillow puts the XMP packet of JPEG, PNG
(``iTXt XML:com.adobe.xmp``), WebP and HEIC (pillow-heif) in ``info["xmp"]``, and TIFF's
in tag 700.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow loads when a photo is read: the window starts without it
    from PIL import Image

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
XMP_TIFF_TAG = 700
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # how the catalog stores dates: sorts as text


@dataclass(frozen=True)
class Embedded:
    xmp: bytes  # the XMP packet inside the file, b"" when there is none
    orientation: int  # EXIF orientation, 1 = upright
    stored_size: tuple[int, int]  # width, height of the pixels as stored (before orientation)
    taken: str | None  # EXIF DateTimeOriginal as DATE_FORMAT, when the file has a valid one


def embedded_metadata(image: Image.Image) -> Embedded:
    """The metadata of an opened image (before ``load()`` or any transpose)."""
    exif = image.getexif()
    xmp = image.info.get("xmp") or b""
    if not xmp and hasattr(image, "tag_v2"):
        xmp = image.tag_v2.get(XMP_TIFF_TAG) or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    try:
        orientation = int(exif.get(ORIENTATION, 1))
    except (TypeError, ValueError):
        orientation = 1
    return Embedded(
        bytes(xmp),
        orientation if 1 <= orientation <= 8 else 1,
        image.size,
        _exif_date(exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL)),
    )


def read_embedded(path: Path) -> Embedded:
    """Open ``path`` just far enough to read its metadata. Raises OSError (and Pillow's
    own errors) for a file that is not a readable image."""
    from PIL import Image

    with Image.open(path) as image:
        return embedded_metadata(image)


def _exif_date(value: object) -> str | None:
    """EXIF's "YYYY:MM:DD HH:MM:SS" as DATE_FORMAT; None for blanks and nonsense
    ("0000:00:00 00:00:00" is common)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").strftime(
            DATE_FORMAT
        )
    except ValueError:
        return None


def file_date(mtime_ns: int) -> str:
    """A file's modification time (local time) as DATE_FORMAT: the date taken of a photo
    without EXIF."""
    return datetime.fromtimestamp(mtime_ns / 1e9).strftime(DATE_FORMAT)
