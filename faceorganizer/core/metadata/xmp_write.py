"""Sidecars that carry our names to digiKam, Lightroom, darktable and Immich.

One ``rdf:Description`` in the shape Exiv2 (and so digiKam) writes: simple fields as
attributes, each region a nested ``rdf:Description``, checked against MWG 2.0 section
5.9: ``mwg-rs:Regions`` holds ``AppliedToDimensions`` (stDim w, h in pixels of the
stored image) and a ``RegionList`` bag of regions with ``Name``, ``Type="Face"`` and a
normalized, centre-based ``Area`` (stArea x, y, w, h) in the stored image's frame. The
people also go in as keywords the way those tools file them: ``dc:subject`` "Name",
``lr:hierarchicalSubject`` "People|Name", ``digiKam:TagsList`` "People/Name".

Written with the standard library's ElementTree: it only serializes our own data, so
there is nothing untrusted to parse. The output is deterministic (no dates in it), which
is what makes a re-export able to tell an unchanged sidecar from a changed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, indent, register_namespace, tostring

from faceorganizer import __version__
from faceorganizer.core.metadata.orientation import Box
from faceorganizer.core.metadata.xmp_read import MWG_RS, RDF, ST_AREA, ST_DIM

X = "adobe:ns:meta/"
DC = "http://purl.org/dc/elements/1.1/"
LR = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
PREFIXES = {
    "x": X, "rdf": RDF, "dc": DC, "lr": LR, "digiKam": DIGIKAM,
    "mwg-rs": MWG_RS, "stArea": ST_AREA, "stDim": ST_DIM,
}  # fmt: skip
PEOPLE = "People"  # the tag tree digiKam and Lightroom file person names under
PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
PACKET_END = '\n<?xpacket end="w"?>\n'

for _prefix, _uri in PREFIXES.items():
    register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class FaceName:
    name: str
    box: Box  # normalized, in the stored image's frame (see orientation.to_stored)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _list(parent: Element, namespace: str, name: str, kind: str, values: list[str]) -> None:
    container = SubElement(SubElement(parent, _q(namespace, name)), _q(RDF, kind))
    for value in values:
        SubElement(container, _q(RDF, "li")).text = value


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def sidecar_xmp(faces: list[FaceName], keywords: list[str], stored_size: tuple[int, int]) -> bytes:
    """The sidecar for one photo: its named faces as MWG regions, ``keywords`` (the
    people's names) as keywords."""
    meta = Element(_q(X, "xmpmeta"), {_q(X, "xmptk"): f"faceorganizer {__version__}"})
    description = SubElement(
        SubElement(meta, _q(RDF, "RDF")), _q(RDF, "Description"), {_q(RDF, "about"): ""}
    )
    names = sorted(set(keywords), key=str.casefold)
    if names:
        _list(description, DIGIKAM, "TagsList", "Seq", [f"{PEOPLE}/{n}" for n in names])
        _list(description, LR, "hierarchicalSubject", "Bag", [f"{PEOPLE}|{n}" for n in names])
        _list(description, DC, "subject", "Bag", names)
    regions = SubElement(description, _q(MWG_RS, "Regions"), {_q(RDF, "parseType"): "Resource"})
    SubElement(
        regions,
        _q(MWG_RS, "AppliedToDimensions"),
        {
            _q(ST_DIM, "w"): str(stored_size[0]),
            _q(ST_DIM, "h"): str(stored_size[1]),
            _q(ST_DIM, "unit"): "pixel",
        },
    )
    bag = SubElement(SubElement(regions, _q(MWG_RS, "RegionList")), _q(RDF, "Bag"))
    for face in faces:
        x0, y0, x1, y1 = face.box
        region = SubElement(
            SubElement(bag, _q(RDF, "li")),
            _q(RDF, "Description"),
            {_q(MWG_RS, "Name"): face.name, _q(MWG_RS, "Type"): "Face"},
        )
        SubElement(
            region,
            _q(MWG_RS, "Area"),
            {
                _q(ST_AREA, "x"): _number((x0 + x1) / 2),
                _q(ST_AREA, "y"): _number((y0 + y1) / 2),
                _q(ST_AREA, "w"): _number(x1 - x0),
                _q(ST_AREA, "h"): _number(y1 - y0),
                _q(ST_AREA, "unit"): "normalized",
            },
        )
    indent(meta, space=" ")
    body = tostring(meta, encoding="unicode", short_empty_elements=True)
    return (PACKET_START + body + PACKET_END).encode("utf-8")
