"""XMP sidecars beside exported photos, so the names given here open in digiKam,
Lightroom, darktable and Immich.

``<exported file>.xmp`` (digiKam's naming, which darktable and Immich read too) holds
MWG regions for every face of the photo that belongs to a person, named or not
("Person 007"), and the named people as keywords. Sidecars are only ever written in the
export folder, never beside an original: a folder that holds photos of the library gets
none. A sidecar that already says the same is left alone, so exporting again rewrites
only those whose names changed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from faceorganizer.core.metadata.embedded import read_embedded
from faceorganizer.core.metadata.orientation import swaps_sides, to_stored
from faceorganizer.core.metadata.xmp_write import FaceName, sidecar_xmp
from faceorganizer.core.store.catalog import Catalog
from faceorganizer.core.store.files import write_atomic


class SidecarError(Exception):
    """This photo gets no sidecar; the message says why."""


def sidecar_path(photo: Path) -> Path:
    return photo.with_name(photo.name + ".xmp")


class SidecarWriter:
    """Writes the sidecars of one export; reads the catalog's people once."""

    def __init__(self, catalog: Catalog, root: Path) -> None:
        self.root = root
        persons = {p.id: p for p in catalog.persons()}  # hidden people stay out
        self.faces: dict[str, list[tuple[str, bool, tuple[float, ...]]]] = defaultdict(list)
        library_folders = set()
        for person_id, _file_id, path, box in catalog.person_files():
            library_folders.add(os.path.dirname(path))
            if person_id in persons:
                person = persons[person_id]
                self.faces[path].append((person.display_name, bool(person.name), box))
        self.originals = {(root / folder).resolve() for folder in library_folders}

    def write(self, target: Path, source: str) -> tuple[Path, bool]:
        """Write (or update) the sidecar of ``target``, the export of library photo
        ``source``: (sidecar path, whether it was written). Raises SidecarError, OSError."""
        if target.parent.resolve() in self.originals:
            raise SidecarError("not written: that folder holds photos of the library")
        try:
            embedded = read_embedded(self.root / source)
        except Exception as exc:
            raise SidecarError(f"cannot read the photo's size: {exc}") from exc
        stored = embedded.stored_size
        width, height = stored[::-1] if swaps_sides(embedded.orientation) else stored
        faces = [
            FaceName(
                name,
                to_stored(
                    (b[0] / width, b[1] / height, b[2] / width, b[3] / height), embedded.orientation
                ),
            )
            for name, _named, b in self.faces.get(source, [])
        ]
        keywords = [name for name, named, _box in self.faces.get(source, []) if named]
        data = sidecar_xmp(faces, keywords, stored)
        path = sidecar_path(target)
        if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
            return path, False
        write_atomic(path, data)
        return path, True
