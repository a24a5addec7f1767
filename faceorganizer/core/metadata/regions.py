"""All the named face regions of one photo, in its upright frame.

Where names come from, first found wins: the sidecar ``<photo>.xmp``, then ``<stem>.xmp``,
then the XMP inside the file. A sidecar is what digiKam, darktable, Lightroom and Immich
write when they leave the photo alone, so it is the newer word when both exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from faceorganizer.core.metadata.embedded import Embedded
from faceorganizer.core.metadata.orientation import Box, swaps_sides, to_upright
from faceorganizer.core.metadata.xmp_read import (
    Region,
    XmpError,
    parse_regions,
    read_sidecar,
    sidecar_names,
)

ASPECT_TOLERANCE = 0.02  # AppliedToDimensions vs the photo: 2 % for rounding and odd crops


@dataclass
class PhotoRegions:
    regions: list[tuple[str, Box]] = field(default_factory=list)  # name, upright normalized
    warnings: list[str] = field(default_factory=list)


def photo_regions(path: Path, embedded: Embedded) -> PhotoRegions:
    """The named regions of the photo at ``path``; unusable XMP becomes a warning."""
    result = PhotoRegions()
    for name in dict.fromkeys(sidecar_names(path.name)):
        sidecar = path.with_name(name)
        if not sidecar.is_file():
            continue
        try:
            regions = parse_regions(read_sidecar(sidecar))
        except XmpError as exc:
            result.warnings.append(f"sidecar {name}: {exc}")
            continue
        if regions:
            return _upright(regions, embedded, result, f"sidecar {name}")
    if embedded.xmp:
        try:
            return _upright(parse_regions(embedded.xmp), embedded, result, "embedded XMP")
        except XmpError as exc:
            result.warnings.append(f"embedded XMP: {exc}")
    return result


def _upright(regions: list[Region], embedded: Embedded, result: PhotoRegions, where: str):
    for region in regions:
        box = _frame(region, embedded)
        if box is None:
            width, height = region.applied_to or (0, 0)
            result.warnings.append(
                f"{where}: region {region.name!r} was made for a {width:.0f}x{height:.0f} "
                f"image, this photo is {embedded.stored_size[0]}x{embedded.stored_size[1]} "
                "(cropped since?): not used"
            )
        else:
            result.regions.append((region.name, box))
    return result


def _frame(region: Region, embedded: Embedded) -> Box | None:
    """The region's box in the upright frame.

    MWG 2.0: regions apply to the stored image and turn with the Exif Orientation. Some
    tools wrote them for the displayed image instead; their AppliedToDimensions then has
    the displayed (swapped) sides, which tells the two apart. Dimensions that fit
    neither mean the photo was cropped after the regions were drawn."""
    if region.applied_to is None:
        return to_upright(region.box, embedded.orientation)
    width, height = embedded.stored_size
    ratio = region.applied_to[0] / region.applied_to[1]
    if _close(ratio, width / height):
        return to_upright(region.box, embedded.orientation)
    if swaps_sides(embedded.orientation) and _close(ratio, height / width):
        return region.box
    return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ASPECT_TOLERANCE * max(a, b)
