"""EXIF orientation applied to normalized boxes.

MWG 2.0 (5.9, "Image Region Metadata"): regions apply to the *stored* image; whoever
shows the photo turned by its Exif Orientation must turn the regions with it. Faces here
live in the upright (displayed) frame, so regions are turned on the way in and back on
the way out.
"""

from __future__ import annotations

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, normalized to 0..1


def _point(x: float, y: float, orientation: int) -> tuple[float, float]:
    """Where a stored point lands in the displayed image (tag values 1-8)."""
    return {
        2: (1 - x, y),  # mirrored
        3: (1 - x, 1 - y),  # 180°
        4: (x, 1 - y),  # flipped
        5: (y, x),  # transpose
        6: (1 - y, x),  # 90° clockwise
        7: (1 - y, 1 - x),  # transverse
        8: (y, 1 - x),  # 90° counter-clockwise
    }.get(orientation, (x, y))


_INVERSE = {6: 8, 8: 6}  # every other orientation undoes itself


def _map(box: Box, orientation: int) -> Box:
    (ax, ay), (bx, by) = _point(box[0], box[1], orientation), _point(box[2], box[3], orientation)
    return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


def to_upright(box: Box, orientation: int) -> Box:
    """A box of the stored image as a box of the displayed one."""
    return _map(box, orientation)


def to_stored(box: Box, orientation: int) -> Box:
    """A box of the displayed image as a box of the stored one."""
    return _map(box, _INVERSE.get(orientation, orientation))


def swaps_sides(orientation: int) -> bool:
    """Does this orientation turn the photo by 90° (width and height trade places)?"""
    return orientation in (5, 6, 7, 8)
