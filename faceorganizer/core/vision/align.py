"""Face-chip alignment matching dlib's ``get_face_chip`` for 5-point landmarks.

Why our own copy: the ONNX embedder must see exactly the pixels dlib's network was trained
and verified on, without calling into dlib for every face. This re-implements, in numpy:

* ``get_face_chip_details``: a least-squares similarity transform (Umeyama) from dlib's mean
  5-point face, scaled into a ``size`` x ``size`` chip with ``padding``, to the landmarks;
* ``extract_image_chip``: when the face is much larger than the chip, dlib first shrinks a
  crop around it with its 5-tap pyramid (so bilinear sampling does not alias), then samples
  it bilinearly, truncating to uint8 and filling out-of-image pixels with black.

Both steps follow dlib's arithmetic (same rectangle rounding, pyramid offsets and integer
filter), so chips are nearly always bit-identical to dlib's.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# dlib's mean positions of the 5 landmarks (outer/inner right eye, outer/inner left eye,
# nose base) in a unit square; parts 0..4 of shape_predictor_5_face_landmarks.
_MEAN_FACE_5 = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)

_PYR_TAPS = np.array([1, 4, 6, 4, 1], dtype=np.float32)

# A rectangle is (left, top, right, bottom) with inclusive corners, as in dlib.
Rect = tuple[float, float, float, float]


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation+scale+translation mapping src points onto dst (Umeyama)."""
    mean_src, mean_dst = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - mean_src, dst - mean_dst
    var_src = (src_c**2).sum(axis=1).mean()
    cov = dst_c.T @ src_c / len(src)
    u, d, vt = np.linalg.svd(cov)
    s = np.eye(2)
    det = np.linalg.det(cov)
    if det < 0 or (det == 0 and np.linalg.det(u) * np.linalg.det(vt) < 0):
        s[(1, 1) if d[1] < d[0] else (0, 0)] = -1
    rot = u @ s @ vt
    scale = np.trace(np.diag(d) @ s) / var_src if var_src != 0 else 1.0
    m = scale * rot
    return m, mean_dst - m @ mean_src


def chip_location(
    landmarks5: np.ndarray, size: int = 150, padding: float = 0.25
) -> tuple[Rect, float]:
    """Where the chip lies in the image: dlib's chip_details (rectangle, rotation angle)."""
    pts = np.asarray(landmarks5, dtype=np.float64).reshape(5, 2)
    chip_pts = (padding + _MEAN_FACE_5) / (2 * padding + 1) * size
    m, t = similarity_transform(chip_pts, pts)
    angle = math.atan2(m[1, 0], m[0, 0])
    scale = math.hypot(m[0, 0], m[1, 0])
    cx, cy = m @ np.array([size / 2, size / 2]) + t
    half = (size * scale - 1) / 2
    return (cx - half, cy - half, cx + half, cy + half), angle


def _area(r: Rect) -> float:
    left, top, right, bottom = r
    if left > right or top > bottom:
        return 0.0
    return (right - left + 1) * (bottom - top + 1)


def _rect_down(r: Rect) -> Rect:
    """Map a rectangle onto the next level of dlib's pyramid_down<2>."""
    left, top, right, bottom = r
    return (left / 2 - 1.25, top / 2 - 0.75, right / 2 - 1.25, bottom / 2 - 0.75)


def _rotate(center: np.ndarray, pts: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    d = pts - center
    return np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], axis=1) + center


def _corners(r: Rect) -> np.ndarray:
    """tl, tr, bl, br corners."""
    left, top, right, bottom = r
    return np.array([[left, top], [right, top], [left, bottom], [right, bottom]], dtype=float)


def _center(r: Rect) -> np.ndarray:
    return np.array([(r[0] + r[2]) / 2, (r[1] + r[3]) / 2])


def _round(v: float) -> int:
    return math.floor(v + 0.5)


def pyramid_down(img: np.ndarray) -> np.ndarray:
    """dlib's pyramid_down<2>: [1 4 6 4 1]^2 / 256 filter, keep every other pixel, truncate.

    Output pixel (r, c) is centred on input pixel (2r + 2, 2c + 2). The sums are integers
    below 2**24, so OpenCV's float32 filter computes them exactly.
    """
    h, w = img.shape[:2]
    if h <= 8 or w <= 8:
        return np.zeros((0, 0, *img.shape[2:]), dtype=np.uint8)
    oh, ow = (h - 3) // 2, (w - 3) // 2
    full = cv2.sepFilter2D(img, cv2.CV_32F, _PYR_TAPS, _PYR_TAPS)
    kept = full[2 : 2 + 2 * oh : 2, 2 : 2 + 2 * ow : 2]
    return (kept * np.float32(1 / 256)).astype(np.uint8)  # exact /256, then truncate


def _bilinear(img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Sample an RGB image like dlib's interpolate_bilinear: black outside, truncated.

    The arithmetic is dlib's, operation for operation in float64, so truncation lands on
    the same integers. Pixels are gathered as packed RGBA words and updated in place,
    which keeps this a few times faster than the obvious fancy-indexing version.
    """
    h, w = img.shape[:2]
    if h < 2 or w < 2:
        return np.zeros((*xs.shape, 3), dtype=np.uint8)
    left, top = np.floor(xs).ravel(), np.floor(ys).ravel()
    inside = (left >= 0) & (top >= 0) & (left + 1 < w) & (top + 1 < h)
    lr = np.repeat(xs.ravel() - left, 4)  # one weight per RGBA byte
    tb = np.repeat(ys.ravel() - top, 4)
    idx = np.clip(top, 0, h - 2).astype(np.int64) * w + np.clip(left, 0, w - 2).astype(np.int64)
    rgba = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2RGBA)
    words = rgba.view(np.uint32).reshape(-1)
    tl, tr, bl, br = (
        words.take(i).view(np.uint8).astype(np.float64)
        for i in (idx, idx + 1, idx + w, idx + w + 1)
    )
    tl *= 1 - lr
    tr *= lr
    tl += tr  # top row: (1-lr)*tl + lr*tr
    bl *= 1 - lr
    br *= lr
    bl += br  # bottom row
    tl *= 1 - tb
    bl *= tb
    tl += bl  # (1-tb)*top + tb*bottom
    np.clip(tl, 0, 255, out=tl)
    out = tl.astype(np.uint8).reshape(-1, 4)[:, :3]  # astype truncates, like assign_pixel
    out[~inside] = 0
    return out.reshape(*xs.shape, 3)


def extract_chip(rgb: np.ndarray, rect: Rect, angle: float, size: int) -> np.ndarray:
    """dlib's extract_image_chip (bilinear) for a square chip of `size` pixels."""
    h, w = rgb.shape[:2]
    chip_area = size * size

    # How many pyramid levels to shrink through, and how much border the filter needs.
    depth, grow = 0, 2.0
    r = _rect_down(rect)
    while _area(r) > chip_area:
        r = _rect_down(r)
        depth += 1
        grow = grow * 2 + 2

    # Crop (with margin) around the rotated chip, clipped to the image, on integer pixels.
    rot = _rotate(_center(rect), _corners(rect), angle)
    box = (
        max(rot[:, 0].min() - grow, 0.0),
        max(rot[:, 1].min() - grow, 0.0),
        min(rot[:, 0].max() + grow, w - 1.0),
        min(rot[:, 1].max() + grow, h - 1.0),
    )
    left, top, right, bottom = (_round(v) for v in box)
    if left > right or top > bottom:
        return np.zeros((size, size, 3), dtype=np.uint8)
    img = rgb[top : bottom + 1, left : right + 1]

    r = (rect[0] - left, rect[1] - top, rect[2] - left, rect[3] - top)
    for _ in range(depth):
        img = pyramid_down(img)
        r = _rect_down(r)
    if img.size == 0:
        return np.zeros((size, size, 3), dtype=np.uint8)

    # Affine map from chip pixel (col, row) to image point, fixed by where the chip's
    # top-left, top-right and bottom-left corners land.
    tl, tr, bl = _rotate(_center(r), _corners(r)[:3], angle)
    step = max(size - 1, 1)
    col_dir, row_dir = (tr - tl) / step, (bl - tl) / step
    cols = np.arange(size, dtype=np.float64)[None, :]
    rows = np.arange(size, dtype=np.float64)[:, None]
    xs = col_dir[0] * cols + row_dir[0] * rows + tl[0]
    ys = col_dir[1] * cols + row_dir[1] * rows + tl[1]
    return _bilinear(img, xs, ys)


def face_chip(
    rgb: np.ndarray, landmarks5: np.ndarray, size: int = 150, padding: float = 0.25
) -> np.ndarray:
    """Aligned ``size`` x ``size`` RGB uint8 chip, as ``dlib.get_face_chip`` makes it.

    rgb: (H, W, 3) uint8 image; landmarks5: (5, 2) x,y points from dlib's 5-point predictor.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    rect, angle = chip_location(landmarks5, size, padding)
    return extract_chip(np.ascontiguousarray(rgb, dtype=np.uint8), rect, angle, size)
