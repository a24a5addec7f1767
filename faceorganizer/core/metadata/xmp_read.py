"""Named face regions from XMP: MWG regions and Microsoft Photo (Windows Photo Gallery)
regions, in a photo's sidecar or inside the file.

XMP is untrusted XML. It is parsed by defusedxml with DTDs refused outright (XMP never
has one), so neither external entities (XXE) nor entity expansion ("billion laughs") can
happen, and nothing over MAX_XMP_BYTES is read at all. Any problem is an ``XmpError``
with a message for the user; the caller turns it into a per-file warning.

RDF allows the same property as an attribute, an element, or an element holding an
``rdf:Description``: digiKam (through Exiv2) writes attributes and nested descriptions,
ExifTool and Lightroom write ``rdf:parseType="Resource"`` elements. All are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from faceorganizer.core.metadata.orientation import Box

MAX_XMP_BYTES = 4 << 20  # real sidecars are a few kB; Lightroom's with develop settings < 1 MB
MAX_REGIONS = 500  # per photo: a crowd is a few dozen tagged faces; more is not a real tag list
MAX_NAME = 200  # characters of a name kept

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"


class XmpError(Exception):
    """XMP that cannot be used (too large, not XML, or refused as hostile)."""


@dataclass(frozen=True)
class Region:
    """A named face region, normalized to the stored image (MWG's frame)."""

    name: str
    box: Box
    applied_to: tuple[float, float] | None  # MWG AppliedToDimensions (w, h), if given


def sidecar_names(photo_name: str) -> list[str]:
    """Sidecar file names a photo may have, most specific first: ``IMG_1.jpg.xmp``
    (digiKam, darktable, Immich), then ``IMG_1.xmp`` (Lightroom, Capture One)."""
    stem = photo_name.rpartition(".")[0] or photo_name
    return [f"{photo_name}.xmp", f"{photo_name}.XMP", f"{stem}.xmp", f"{stem}.XMP"]


def sidecar_signature(folder: Path, photo_name: str, names: set[str]) -> str:
    """Name, size and mtime of the sidecars beside a photo ('' when it has none): when
    this changes, a rescan reads the photo's names again. ``names`` is the folder's
    listing, so only sidecars that exist are looked at."""
    parts = []
    for name in sidecar_names(photo_name):
        if name in names:
            try:
                info = os.stat(folder / name)
            except OSError:
                continue
            parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def read_sidecar(path: Path) -> bytes:
    """A sidecar's bytes, refusing files over MAX_XMP_BYTES before reading them."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_XMP_BYTES + 1)
    except OSError as exc:
        raise XmpError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_XMP_BYTES:
        raise XmpError(f"larger than {MAX_XMP_BYTES >> 20} MB, not read")
    return data


def parse_regions(data: bytes) -> list[Region]:
    """The named face regions of one XMP packet. MWG regions win over Microsoft's when
    a packet has both (digiKam writes both, with the same faces)."""
    root = _parse(data)
    return (_mwg_regions(root) or _mp_regions(root))[:MAX_REGIONS]


def _parse(data: bytes) -> Element:
    if len(data) > MAX_XMP_BYTES:
        raise XmpError(f"larger than {MAX_XMP_BYTES >> 20} MB, not read")
    start = data.find(b"<")
    if start < 0:
        raise XmpError("not XMP (no XML in it)")
    try:
        return fromstring(data[start:].rstrip(b"\x00 \r\n\t"), forbid_dtd=True)
    except DefusedXmlException as exc:
        kind = type(exc).__name__
        raise XmpError(f"refused: the XML declares a DTD or entities ({kind})") from None
    except ParseError as exc:
        raise XmpError(f"not valid XML ({exc})") from exc


# ---------------------------------------------------------------- RDF access


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _node(element: Element) -> Element:
    """The node holding a struct's fields: a nested rdf:Description, else the element."""
    description = element.find(_q(RDF, "Description"))
    return element if description is None else description


def _text(node: Element, name: str) -> str | None:
    value = node.get(name)
    if value is None:
        child = node.find(name)
        if child is None:
            return None
        value = child.text or ""
    return value.strip()[:MAX_NAME].strip()


def _struct(node: Element, name: str) -> Element | None:
    child = node.find(name)
    return None if child is None else _node(child)


def _items(node: Element, name: str) -> list[Element]:
    child = node.find(name)
    if child is None:
        return []
    for kind in ("Bag", "Seq", "Alt"):
        container = child.find(_q(RDF, kind))
        if container is not None:
            return [_node(li) for li in container.findall(_q(RDF, "li"))]
    return []


def _floats(*values: str | None) -> list[float] | None:
    try:
        numbers = [float(v) for v in values if v is not None]
    except ValueError:
        return None
    return numbers if len(numbers) == len(values) else None


def _box(x0: float, y0: float, w: float, h: float) -> Box | None:
    """A sane normalized box, clipped to the image; None for empty or nonsense ones."""
    if not (w > 0 and h > 0) or w > 1.5 or h > 1.5:
        return None
    box = (max(0.0, x0), max(0.0, y0), min(1.0, x0 + w), min(1.0, y0 + h))
    return box if box[2] > box[0] and box[3] > box[1] else None


# ---------------------------------------------------------------- the two formats


def _mwg_regions(root: Element) -> list[Region]:
    """mwg-rs:Regions: Area x, y is the centre, w, h the size, normalized (MWG 2.0 5.9)."""
    found: list[Region] = []
    for element in root.iter(_q(MWG_RS, "Regions")):
        regions = _node(element)
        dims = _struct(regions, _q(MWG_RS, "AppliedToDimensions"))
        size = None
        if dims is not None:
            wh = _floats(_text(dims, _q(ST_DIM, "w")), _text(dims, _q(ST_DIM, "h")))
            size = (wh[0], wh[1]) if wh and wh[0] > 0 and wh[1] > 0 else None
        for region in _items(regions, _q(MWG_RS, "RegionList")):
            name = _text(region, _q(MWG_RS, "Name"))
            kind = _text(region, _q(MWG_RS, "Type"))
            area = _struct(region, _q(MWG_RS, "Area"))
            if not name or kind not in (None, "", "Face") or area is None:
                continue
            if (_text(area, _q(ST_AREA, "unit")) or "normalized") != "normalized":
                continue
            xywh = _floats(*(_text(area, _q(ST_AREA, k)) for k in "xywh"))
            box = xywh and _box(xywh[0] - xywh[2] / 2, xywh[1] - xywh[3] / 2, xywh[2], xywh[3])
            if box:
                found.append(Region(name, box, size))
    return found


def _mp_regions(root: Element) -> list[Region]:
    """MP:RegionInfo / MPRI:Regions: Rectangle is "x, y, w, h" from the top-left corner,
    normalized; the name is PersonDisplayName."""
    found: list[Region] = []
    for element in root.iter(_q(MP, "RegionInfo")):
        for region in _items(_node(element), _q(MPRI, "Regions")):
            name = _text(region, _q(MPREG, "PersonDisplayName"))
            rectangle = (_text(region, _q(MPREG, "Rectangle")) or "").split(",")
            xywh = _floats(*rectangle) if len(rectangle) == 4 else None
            box = xywh and _box(*xywh)
            if name and box:
                found.append(Region(name, box, None))
    return found
