"""XMP face regions: the layouts of digiKam, Lightroom and Windows, orientation, hostile
XML, writing, matching regions to faces."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import fromstring

import numpy as np
import pytest
import xmp_layouts
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from faceorganizer.core.library.names import match_regions
from faceorganizer.core.metadata.embedded import DATE_TIME_ORIGINAL, EXIF_IFD, read_embedded
from faceorganizer.core.metadata.orientation import to_stored, to_upright
from faceorganizer.core.metadata.regions import photo_regions
from faceorganizer.core.metadata.xmp_read import (
    MAX_XMP_BYTES,
    XmpError,
    parse_regions,
    sidecar_names,
)
from faceorganizer.core.metadata.xmp_write import FaceName, sidecar_xmp

REGIONS = [("Ann Smith", 0.1, 0.2, 0.3, 0.5), ("Bo", 0.6, 0.25, 0.75, 0.45)]


def _names_boxes(regions):
    return [(r.name, pytest.approx(r.box, abs=1e-6)) for r in regions]


@pytest.mark.parametrize(
    "layout",
    [
        lambda: xmp_layouts.digikam(REGIONS, (400, 300)),
        lambda: xmp_layouts.lightroom(REGIONS, (400, 300)),
        lambda: xmp_layouts.windows(REGIONS),
    ],
    ids=["digikam", "lightroom", "windows"],
)
def test_every_layout_gives_the_same_regions(layout):
    regions = parse_regions(layout())
    assert _names_boxes(regions) == [(r[0], r[1:]) for r in REGIONS]


def test_mwg_wins_over_the_microsoft_copy_of_the_same_faces():
    regions = parse_regions(xmp_layouts.digikam(REGIONS, (400, 300)))
    assert len(regions) == 2 and all(r.applied_to == (400, 300) for r in regions)


def test_regions_that_are_not_named_faces_are_skipped():
    data = xmp_layouts.lightroom([("Rex", 0.1, 0.1, 0.2, 0.2)], (10, 10))
    assert parse_regions(data.replace(b">Face<", b">Pet<")) == []
    assert parse_regions(xmp_layouts.lightroom([("", 0.1, 0.1, 0.2, 0.2)], (10, 10))) == []


def test_sidecar_names_cover_digikam_and_lightroom():
    assert sidecar_names("IMG_1.JPG")[:1] == ["IMG_1.JPG.xmp"]
    assert "IMG_1.xmp" in sidecar_names("IMG_1.JPG")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_turns_regions_like_pillow_turns_pixels(orientation):
    """A white patch at a stored box lands, after exif_transpose, where to_upright says."""
    stored = np.zeros((40, 60), np.uint8)
    stored[8:20, 6:24] = 255  # rows y 8..20, columns x 6..24
    image = Image.fromarray(stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.info["exif"] = exif.tobytes()
    image.getexif()[0x0112] = orientation
    upright = np.asarray(ImageOps.exif_transpose(image))
    ys, xs = np.nonzero(upright)
    height, width = upright.shape
    found = (xs.min() / width, ys.min() / height, (xs.max() + 1) / width, (ys.max() + 1) / height)
    box = (6 / 60, 8 / 40, 24 / 60, 20 / 40)
    assert to_upright(box, orientation) == pytest.approx(found, abs=1e-9)
    assert to_stored(to_upright(box, orientation), orientation) == pytest.approx(box)


def _photo(path: Path, size=(60, 40), orientation=1, date: str | None = None) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    if date:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = date
    Image.new("RGB", size, "gray").save(path, exif=exif.tobytes())
    return path


def test_regions_written_for_the_displayed_image_are_recognised(tmp_path):
    """Some tools wrote regions for the turned image; their AppliedToDimensions has the
    displayed sides, so they are used as they are instead of being turned twice."""
    photo = _photo(tmp_path / "p.jpg", (60, 40), orientation=6)
    (tmp_path / "p.jpg.xmp").write_bytes(xmp_layouts.lightroom([REGIONS[0]], (40, 60)))
    found = photo_regions(photo, read_embedded(photo))
    assert found.regions == [("Ann Smith", pytest.approx(REGIONS[0][1:]))]
    (tmp_path / "p.jpg.xmp").write_bytes(xmp_layouts.lightroom([REGIONS[0]], (60, 40)))
    turned = photo_regions(photo, read_embedded(photo)).regions[0][1]
    assert turned == pytest.approx(to_upright(REGIONS[0][1:], 6))


def test_regions_of_a_cropped_photo_are_refused_with_a_warning(tmp_path):
    photo = _photo(tmp_path / "p.jpg", (60, 40))
    (tmp_path / "p.jpg.xmp").write_bytes(xmp_layouts.digikam(REGIONS, (40, 40)))
    found = photo_regions(photo, read_embedded(photo))
    assert found.regions == [] and "cropped" in found.warnings[0]


def test_sidecar_beats_embedded_xmp(tmp_path):
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (60, 40)).save(photo, xmp=xmp_layouts.windows([("Inside", 0, 0, 1, 1)]))
    assert photo_regions(photo, read_embedded(photo)).regions[0][0] == "Inside"
    (tmp_path / "p.xmp").write_bytes(xmp_layouts.windows([("Beside", 0, 0, 1, 1)]))
    assert photo_regions(photo, read_embedded(photo)).regions[0][0] == "Beside"


# ---------------------------------------------------------------- hostile XML


def test_external_entity_is_refused_and_the_file_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with pytest.raises(XmpError, match="DTD"):
        parse_regions(xmp_layouts.xxe(str(secret)))


def test_nested_entities_are_refused():
    with pytest.raises(XmpError, match="DTD"):
        parse_regions(xmp_layouts.nested_entities())


def test_huge_and_broken_sidecars_are_warnings(tmp_path):
    photo = _photo(tmp_path / "p.jpg")
    with (tmp_path / "p.jpg.xmp").open("wb") as stream:
        stream.write(xmp_layouts.windows(REGIONS)[:-30])
        stream.truncate(50 << 20)  # 50 MB
    (tmp_path / "p.xmp").write_bytes(b"<x:xmpmeta><rdf:RDF")  # cut short
    found = photo_regions(photo, read_embedded(photo))
    assert found.regions == []
    assert f"larger than {MAX_XMP_BYTES >> 20} MB" in found.warnings[0]
    assert "not valid XML" in found.warnings[1]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda cut, junk: xmp_layouts.digikam(REGIONS, (400, 300))[:cut] + junk,
            st.integers(0, 1500),
            st.binary(max_size=40),
        ),
    )
)
def test_any_bytes_give_regions_or_an_xmp_error(data):
    """Garbage, cut-off and spliced packets: a list of sane regions or XmpError, nothing
    else (no other exception type escapes to the scan)."""
    try:
        regions = parse_regions(data)
    except XmpError:
        return
    for region in regions:
        assert region.name and 0 <= region.box[0] < region.box[2] <= 1
        assert 0 <= region.box[1] < region.box[3] <= 1


def test_a_packet_of_endless_regions_is_cut_to_a_sane_number():
    many = [(f"P{i}", 0.1, 0.1, 0.2, 0.2) for i in range(2000)]
    assert len(parse_regions(xmp_layouts.lightroom(many, (10, 10)))) == 500


# ---------------------------------------------------------------- writing


def test_written_sidecar_reads_back_with_keywords():
    faces = [FaceName("Ann Smith", REGIONS[0][1:]), FaceName("Person 007", REGIONS[1][1:])]
    data = sidecar_xmp(faces, ["Ann Smith"], (400, 300))
    assert data == sidecar_xmp(faces, ["Ann Smith"], (400, 300))  # deterministic
    back = parse_regions(data)
    assert [r.name for r in back] == ["Ann Smith", "Person 007"]
    assert back[0].box == pytest.approx(REGIONS[0][1:]) and back[0].applied_to == (400, 300)
    root = fromstring(data.decode().split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    values = {li.text for li in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li")}
    assert {"Ann Smith", "People|Ann Smith", "People/Ann Smith"} <= values
    assert not any("Person 007" in v for v in values)  # unnamed people are not keywords


# ---------------------------------------------------------------- matching


def test_region_goes_to_the_face_whose_centre_it_holds_with_the_best_overlap():
    faces = [(1, (100, 100, 200, 200)), (2, (120, 110, 190, 190)), (3, (400, 100, 500, 200))]
    names, unmatched = match_regions(
        [("Ann", (90, 90, 210, 210)), ("Bo", (380, 90, 520, 220)), ("Cy", (0, 300, 50, 350))],
        faces,
    )
    assert names == {1: "Ann", 3: "Bo"} and unmatched == ["Cy"]


def test_date_taken_comes_from_exif(tmp_path):
    assert read_embedded(_photo(tmp_path / "a.jpg", date="2019:07:04 18:30:00")).taken == (
        "2019-07-04 18:30:00"
    )
    assert read_embedded(_photo(tmp_path / "b.jpg", date="0000:00:00 00:00:00")).taken is None


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_sidecar_written_by_exiv2_reads():
    """exiv2-0.27-regions.xmp was written by exiv2 0.27.6 (the library digiKam writes XMP
    with) from an empty packet: ``exiv2 -m exiv2-0.27-regions.cmd FILE.xmp``. It holds one
    face as MWG and as Microsoft regions, in Exiv2's own serialization."""
    data = (FIXTURES / "exiv2-0.27-regions.xmp").read_bytes()
    (mwg,) = parse_regions(data)
    assert mwg.name == "Joe Biden" and mwg.applied_to == (2000, 1428)
    assert mwg.box == pytest.approx((0.36, 0.294118, 0.47, 0.462185), abs=1e-6)
    start, end = data.index(b"<mwg-rs:Regions"), data.index(b"</mwg-rs:Regions>")
    (mp,) = parse_regions(data[:start] + data[end + len(b"</mwg-rs:Regions>") :])
    assert mp.name == "Joe Biden" and mp.box == pytest.approx(mwg.box, abs=1e-6)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_xmp_inside_png_webp_and_heic_is_read(tmp_path, fmt):
    import pillow_heif

    pillow_heif.register_heif_opener()
    photo = tmp_path / f"p.{fmt.lower()}"
    packet = xmp_layouts.lightroom([REGIONS[0]], (64, 48))
    if fmt == "PNG":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode())
        Image.new("RGB", (64, 48)).save(photo, pnginfo=info)
    else:
        Image.new("RGB", (64, 48)).save(photo, fmt, xmp=packet)
    found = photo_regions(photo, read_embedded(photo))
    assert found.regions == [("Ann Smith", pytest.approx(REGIONS[0][1:]))]
