"""What an edit writes to the catalog, and what an upgrade of a large one costs.

    python bench/catalog_writes.py [--faces 100000] [--seed 0] [--workdir DIR] [--json]

On bench/gui_latency.py's library (the same cached file, built if missing): the WAL bytes
and seconds of the edits its steps make (merge the two largest people, undo, redo; move
1,000 faces to a small person) on a fresh copy. A worker that writes megabytes of WAL
holds the CPU (and the GIL between pages) while the window waits, so fewer bytes per edit
is fewer stalls. When the cached library was built by an older schema (and gui_latency
has not upgraded it yet), a copy of it is upgraded first: the seconds that takes (its
backup included, as a user waits for it) and the file's size before and after; the edits
then run on the upgraded copy, so before and after runs measure the same library content.
Also the seconds of the catalog's whole-library reads the grouping makes (embeddings, wide
embeddings). Wall clock; the 2 cores may be shared.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gui_latency import MOVED, cached_library, fresh_copy, library_options  # noqa: E402

from faceorganizer.core.library.edits import Editor  # noqa: E402
from faceorganizer.core.store.backup import backups  # noqa: E402
from faceorganizer.core.store.catalog import SCHEMA_VERSION, Catalog  # noqa: E402


def schema_of(path: Path) -> int:
    catalog = Catalog(path, readonly=True)
    try:
        return catalog.schema_version()
    finally:
        catalog.close()


def upgrade(built: Path, target: Path) -> dict[str, float]:
    """A copy of an older library opened (so upgraded) as the app opens it."""
    original = Catalog(built, readonly=True)  # as it is: fresh_copy would upgrade it
    started = time.perf_counter()
    original.backup_to(target)
    copied = time.perf_counter() - started
    original.close()
    size = target.stat().st_size
    started = time.perf_counter()
    Catalog(target).close()
    seconds = time.perf_counter() - started
    for made in backups(target):  # the throwaway copy's: a run would keep 1 GB more
        made.unlink()
    return {
        "from_schema": schema_of(built),
        "seconds": round(seconds, 2),
        "copy_seconds": round(copied, 2),  # what the upgrade's own backup costs, about
        "bytes_before": size,
        "bytes_after": target.stat().st_size,
    }


def measured(catalog: Catalog, action: Callable[[], object]) -> tuple[int, float]:
    """(WAL bytes, seconds) of one edit: the WAL emptied before it, not checkpointed
    during it, so its size is every page the edit wrote."""
    wal = Path(str(catalog.path) + "-wal")
    catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return wal.stat().st_size, round(seconds, 3)


def run(library: Path) -> dict[str, dict[str, float]]:
    catalog = Catalog(library)
    catalog.db.execute("PRAGMA wal_autocheckpoint = 0")
    editor = Editor(catalog)
    people = catalog.persons()
    largest, second = people[0], people[1]
    target = next(p for p in people[2:] if p.faces < 50)
    edits: dict[str, Callable[[], object]] = {
        f"merge_{largest.faces + second.faces}_faces": lambda: editor.merge(
            [largest.id, second.id]
        ),
        "undo": editor.undo,
        "redo": editor.redo,
        # of the merged person, as gui_latency's step moves them
        f"move_{MOVED}_faces": lambda: editor.move(
            catalog.faces_of_person(largest.id)[:MOVED], target.id
        ),
    }
    wal_bytes: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for name, action in edits.items():
        wal_bytes[name], seconds[name] = measured(catalog, action)
    reads: dict[str, float] = {}
    started = time.perf_counter()
    face_ids, _files, vectors = catalog.embeddings()
    reads["embeddings"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    catalog.wide_embeddings(face_ids, vectors)
    reads["wide_embeddings"] = round(time.perf_counter() - started, 3)
    catalog.close()
    return {"wal_bytes": wal_bytes, "edit_seconds": seconds, "read_seconds": reads}


def main(argv: list[str] | None = None) -> None:
    args = library_options(__doc__.split("\n")[0]).parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    built = cached_library(args)
    library = built.parent / "writes.sqlite"
    result: dict[str, object] = {"schema": SCHEMA_VERSION}
    if schema_of(built) < SCHEMA_VERSION:
        result["upgrade"] = upgrade(built, library)
    else:
        fresh_copy(built, library)
    result |= run(library)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
