"""XMP sidecars in the layouts other photo tools write, built by the tests themselves.

Each region is (name, x0, y0, x1, y1) normalized to the stored image. The three shapes:
- digiKam (through Exiv2): one rdf:Description, simple fields as attributes, each region
  a nested rdf:Description; MWG regions *and* Microsoft regions for the same faces, and
  the People tags;
- Lightroom / ExifTool (Adobe's XMP toolkit): structs as rdf:parseType="Resource"
  elements with element-form fields, regions in an rdf:Bag of parseType items;
- Windows Photo Gallery: MP:RegionInfo / MPRI:Regions with "x, y, w, h" rectangles
  from the top-left corner, element form.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

Region = tuple[str, float, float, float, float]

NAMESPACES = (
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
    'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
    'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" '
    'xmlns:MP="http://ns.microsoft.com/photo/1.2/" '
    'xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
    'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#" '
    'xmlns:digiKam="http://www.digikam.org/ns/1.0/"'
)


def _wrap(body: str) -> bytes:
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>\n"
        f"<x:xmpmeta xmlns:x='adobe:ns:meta/'>\n<rdf:RDF {NAMESPACES}>\n{body}\n"
        "</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end='w'?>\n"
    ).encode()


def _centre(region: Region) -> tuple[str, float, float, float, float]:
    name, x0, y0, x1, y1 = region
    return name, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0


def digikam(regions: list[Region], size: tuple[int, int]) -> bytes:
    mwg = "".join(
        f"<rdf:li><rdf:Description mwg-rs:Name={quoteattr(n)} mwg-rs:Type='Face'>"
        f"<mwg-rs:Area stArea:x='{x}' stArea:y='{y}' stArea:w='{w}' stArea:h='{h}' "
        "stArea:unit='normalized'/></rdf:Description></rdf:li>"
        for n, x, y, w, h in map(_centre, regions)
    )
    mp = "".join(
        f"<rdf:li MPReg:Rectangle='{x0}, {y0}, {x1 - x0}, {y1 - y0}' "
        f"MPReg:PersonDisplayName={quoteattr(n)}/>"
        for n, x0, y0, x1, y1 in regions
    )
    tags = "".join(f"<rdf:li>People/{n}</rdf:li>" for n, *_ in regions)
    return _wrap(
        "<rdf:Description rdf:about=''>"
        f"<digiKam:TagsList><rdf:Seq>{tags}</rdf:Seq></digiKam:TagsList>"
        "<mwg-rs:Regions rdf:parseType='Resource'>"
        f"<mwg-rs:AppliedToDimensions stDim:w='{size[0]}' stDim:h='{size[1]}' "
        "stDim:unit='pixel'/>"
        f"<mwg-rs:RegionList><rdf:Bag>{mwg}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>"
        f"<MP:RegionInfo rdf:parseType='Resource'><MPRI:Regions><rdf:Bag>{mp}</rdf:Bag>"
        "</MPRI:Regions></MP:RegionInfo></rdf:Description>"
    )


def lightroom(regions: list[Region], size: tuple[int, int]) -> bytes:
    items = "".join(
        "<rdf:li rdf:parseType='Resource'><mwg-rs:Area rdf:parseType='Resource'>"
        f"<stArea:h>{h}</stArea:h><stArea:unit>normalized</stArea:unit>"
        f"<stArea:w>{w}</stArea:w><stArea:x>{x}</stArea:x><stArea:y>{y}</stArea:y>"
        f"</mwg-rs:Area><mwg-rs:Name>{n}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>"
        "</rdf:li>"
        for n, x, y, w, h in map(_centre, regions)
    )
    return _wrap(
        "<rdf:Description rdf:about=''><mwg-rs:Regions rdf:parseType='Resource'>"
        "<mwg-rs:AppliedToDimensions rdf:parseType='Resource'>"
        f"<stDim:h>{size[1]}</stDim:h><stDim:unit>pixel</stDim:unit><stDim:w>{size[0]}</stDim:w>"
        f"</mwg-rs:AppliedToDimensions><mwg-rs:RegionList><rdf:Bag>{items}</rdf:Bag>"
        "</mwg-rs:RegionList></mwg-rs:Regions></rdf:Description>"
    )


def windows(regions: list[Region]) -> bytes:
    items = "".join(
        "<rdf:li rdf:parseType='Resource'>"
        f"<MPReg:Rectangle>{x0:.6f}, {y0:.6f}, {x1 - x0:.6f}, {y1 - y0:.6f}</MPReg:Rectangle>"
        f"<MPReg:PersonDisplayName>{n}</MPReg:PersonDisplayName></rdf:li>"
        for n, x0, y0, x1, y1 in regions
    )
    return _wrap(
        "<rdf:Description rdf:about=''><MP:RegionInfo rdf:parseType='Resource'>"
        f"<MPRI:Regions><rdf:Bag>{items}</rdf:Bag></MPRI:Regions></MP:RegionInfo>"
        "</rdf:Description>"
    )


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY secret SYSTEM "file://%s"> ]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF %s><rdf:Description rdf:about="">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>
<rdf:li rdf:parseType="Resource"><mwg-rs:Name>&secret;</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
<mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="1" stArea:h="1" stArea:unit="normalized"/>
</rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>
"""


def xxe(secret_file: str) -> bytes:
    """A region whose name is an external entity pointing at a local file."""
    return XXE % (secret_file.encode(), NAMESPACES.encode())


def nested_entities(levels: int = 10) -> bytes:
    """Billion laughs: ten levels of ten references, 10^10 copies when expanded."""
    lines = ['<!ENTITY e0 "lol">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, levels)
    ]
    doctype = "<!DOCTYPE x [" + "".join(lines) + "]>"
    return (doctype + f"<x:xmpmeta xmlns:x='adobe:ns:meta/'>&e{levels - 1};</x:xmpmeta>").encode()
