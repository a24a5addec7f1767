"""Decoding photos safely: EXIF orientation, reduced-size decode, clear errors.

Detection does not need 12 MP, so JPEGs are decoded at reduced size by libjpeg's DCT
scaling (PIL ``draft``), which is several times faster than decoding in full. Anything
that is not a readable image becomes an ``ImageError`` with a message a user understands.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF from phones; optional so a missing wheel only loses that format
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pass

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".gif"}
)
# Decompression-bomb guard: larger images are refused with a message, not decoded.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageError(Exception):
    """A file that cannot be used as a photo; the message says why, for the user."""


@dataclass(frozen=True)
class Photo:
    """An RGB photo at working size, and how it maps back to the original."""

    rgb: np.ndarray  # HxWx3 uint8, upright (EXIF orientation applied)
    scale: float  # working pixels per original pixel (<= 1)
    original_size: tuple[int, int]  # upright width, height of the original


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def load_photo(path: Path, max_side: int | None = None) -> Photo:
    """Decode ``path`` upright, no larger than ``max_side`` on its long side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _to_photo(image, max_side)
    except FileNotFoundError as exc:
        raise ImageError("file disappeared during the scan") from exc
    except PermissionError as exc:
        raise ImageError("permission denied") from exc
    except IsADirectoryError as exc:
        raise ImageError("is a folder, not a file") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"image too large (over {MAX_PIXELS // 1_000_000} megapixels)") from exc
    except UnidentifiedImageError as exc:
        raise ImageError("not an image, or a format that cannot be read") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"corrupt or truncated image ({exc})") from exc
    except MemoryError as exc:
        raise ImageError("image too large to decode") from exc


def _to_photo(image: Image.Image, max_side: int | None) -> Photo:
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if max_side and image.format == "JPEG" and max(width, height) > max_side:
        # DCT scaling: decode at 1/2, 1/4 or 1/8 size, as long as it stays >= the target.
        # draft() wants both sides of the target: (max_side, max_side) would keep a 3:2
        # photo's short side >= max_side and so decode it much larger than needed.
        ratio = max_side / max(width, height)
        image.draft("RGB", (round(image.width * ratio), round(image.height * ratio)))
    ImageOps.exif_transpose(image, in_place=True)  # no copy of an upright photo (1 % of a scan)
    if image.mode != "RGB":
        image = _flatten(image)
    if max_side and max(image.size) > max_side:
        ratio = max_side / max(image.size)
        target = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    rgb = np.asarray(image, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(f"unsupported pixel layout {rgb.shape}")
    return Photo(np.ascontiguousarray(rgb), image.width / width, (width, height))


def _flatten(image: Image.Image) -> Image.Image:
    """Any mode (palette, alpha, CMYK, 16-bit, greyscale) to 8-bit RGB on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        image = Image.fromarray((array * (255.0 / top)).astype(np.uint8), "L")
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


# Thumbnails are stored this big so the largest tiles stay sharp at 200 % scaling
# (120 px person tiles and 104 px faces need 240 / 208 px, the review's 160 px face 320;
# the working image seldom gives more). 10.5 KB a face on faces-dev (6.1 KB at 160 px).
THUMB_SIDE = 256


def face_thumbnail(
    photo: Photo, box: tuple[float, float, float, float], size: int = THUMB_SIDE
) -> bytes:
    """A square JPEG of a face (box in original pixels) with some context around it."""
    x0, y0, x1, y1 = (v * photo.scale for v in box)
    side = max(x1 - x0, y1 - y0) * 1.6
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = photo.rgb.shape[:2]
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    crop = Image.fromarray(photo.rgb[top : max(bottom, top + 1), left : max(right, left + 1)])
    crop.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def photo_thumbnail(path: Path, side: int = 256) -> bytes:
    """A JPEG of the whole photo, upright, its long side at most ``side`` pixels: the
    tiles of a person's photos by date. JPEGs decode at reduced size (DCT scaling), so
    this costs a few ms a photo. Raises ImageError like ``load_photo``."""
    photo = load_photo(path, side)
    buffer = io.BytesIO()
    Image.fromarray(photo.rgb).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
