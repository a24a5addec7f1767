"""The SQLite catalog: every file, face, person and user edit of one photo library.

One catalog per library root. WAL mode lets the GUI read while a worker writes; every
write is a short transaction so a crash loses at most the item in flight. The schema
carries a version (``PRAGMA user_version``) and ordered migrations; a catalog made by a
newer faceorganizer is refused rather than touched.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import platformdirs

from faceorganizer import config
from faceorganizer.config import APP_NAME, Settings
from faceorganizer.core.store import backup


class CatalogError(Exception):
    """The catalog cannot be opened or used (too new, corrupt, unwritable)."""


class DamagedCatalog(CatalogError):
    """The catalog file is corrupt; ``backup`` is the newest intact copy to put back
    (None when there is none), so the app can offer it, not only name it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = path, problem
        self.backup = backup.newest_good_backup(path)
        super().__init__(damaged_message(path, problem, self.backup))


_MIGRATIONS: list[str] = [
    # 1: first schema.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,           -- relative to the library root, '/' separated
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT,                           -- blake2b of the content, for renames/moves
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'error')),
        error TEXT,
        width INTEGER,
        height INTEGER
    );
    CREATE INDEX files_hash ON files(hash);
    CREATE INDEX files_status ON files(status);
    CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        name TEXT,
        hidden INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE faces (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        score REAL NOT NULL,
        landmarks BLOB NOT NULL,             -- 5x2 float32, original-image pixels
        thumb BLOB,                          -- small JPEG for the GUI
        embedding BLOB,                      -- float32 vector
        model TEXT,                          -- id of the model that made the embedding
        person_id INTEGER REFERENCES persons(id) ON DELETE SET NULL,
        locked INTEGER NOT NULL DEFAULT 0,   -- 1 = the user put it in person_id
        ignored INTEGER NOT NULL DEFAULT 0   -- 1 = the user said "not a face"
    );
    CREATE INDEX faces_file ON faces(file_id);
    CREATE INDEX faces_person ON faces(person_id);
    CREATE TABLE rejections (                -- "not this person": never again in person_id
        face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
        PRIMARY KEY (face_id, person_id)
    );
    CREATE TABLE edits (                     -- undo log: row states before and after
        id INTEGER PRIMARY KEY,
        label TEXT NOT NULL,
        before TEXT NOT NULL,
        after TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE layout (                    -- cached 2-D UMAP position per face
        face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        x REAL NOT NULL, y REAL NOT NULL
    );
    """,
    # 2: people list and face grids read (person_id, ignored, score) without touching the
    # rows' thumbnail and embedding blobs: 0.4 s -> ms for persons() at 50k faces.
    """
    CREATE INDEX faces_person_order ON faces(person_id, ignored, score DESC, id);
    """,
    # 3: names from photo metadata (XMP face regions) and the date a photo was taken.
    """
    ALTER TABLE files ADD COLUMN taken TEXT;   -- 'YYYY-MM-DD HH:MM:SS': EXIF, else mtime
    ALTER TABLE files ADD COLUMN xmp_sig TEXT NOT NULL DEFAULT '';  -- sidecars now (sync)
    ALTER TABLE files ADD COLUMN xmp_seen TEXT;  -- xmp_sig when names were read; NULL never
    ALTER TABLE faces ADD COLUMN xmp_name TEXT;  -- the name a region in the metadata gives
    ALTER TABLE faces ADD COLUMN xmp_applied TEXT;  -- the xmp_name last put into a person
    CREATE INDEX files_taken ON files(taken, path);
    CREATE INDEX faces_xmp ON faces(xmp_name) WHERE xmp_name IS NOT NULL;
    """,
    # 4: a file that vanished (unplugged drive, deleted folder) is marked missing and keeps
    # its faces and the user's work. A column, not a status: a missing file keeps the
    # processing state it had (and changing a CHECK would need a table rebuild).
    """
    ALTER TABLE files ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX files_missing ON files(missing);
    """,
    # 5: the detector lives in the settings record alone. It was also a meta row of its
    # own, written by every scan, and that row wins: a regroup of a catalog without a
    # record saved today's default detector into it. A catalog with faces that recorded
    # no detector was scanned by the cascade, the default then.
    """
    INSERT OR REPLACE INTO meta(key, value)
    SELECT 'settings', json_set(
        CASE WHEN json_valid(s.value) THEN s.value ELSE '{}' END,
        '$.detector', COALESCE(d.value, 'cascade'))
    FROM (SELECT 1) LEFT JOIN meta s ON s.key = 'settings' LEFT JOIN meta d ON d.key = 'detector'
    WHERE d.value IS NOT NULL OR EXISTS (SELECT 1 FROM faces);
    DELETE FROM meta WHERE key = 'detector';
    """,
    # 6: how far each face is turned (the detector's yaw; NULL: a detector that does not
    # say), so the grouping lets turned faces join their person (grouping version 3).
    """
    ALTER TABLE faces ADD COLUMN yaw REAL;
    """,
    # 7: a turned face's descriptor from a wider crop as well (NULL: not turned, or scanned
    # before), which grouping version 5 joins groups of turned faces by.
    """
    ALTER TABLE faces ADD COLUMN wide_embedding BLOB;  -- float32 vector, same model
    """,
    # 8: an id names one face, photo or person for good. SQLite numbers a new row
    # max(id) + 1, so the ids of deleted rows (Forget Missing, a changed photo detected
    # again) came back, and undoing an edit stored by face id wrote onto the new face.
    # Triggers keep the highest id each table ever issued, and new rows are numbered
    # above it (Catalog._next_id): what AUTOINCREMENT does, without rebuilding faces
    # (copying every thumbnail and embedding) on upgrade. Seeded with the highest ids
    # in the tables, in the undo log and in the persons' floor kept in meta before.
    """
    CREATE TABLE issued_ids (tbl TEXT PRIMARY KEY, last INTEGER NOT NULL);
    CREATE TRIGGER faces_issued AFTER INSERT ON faces BEGIN
        INSERT INTO issued_ids VALUES ('faces', NEW.id)
        ON CONFLICT(tbl) DO UPDATE SET last = MAX(last, excluded.last);
    END;
    CREATE TRIGGER files_issued AFTER INSERT ON files BEGIN
        INSERT INTO issued_ids VALUES ('files', NEW.id)
        ON CONFLICT(tbl) DO UPDATE SET last = MAX(last, excluded.last);
    END;
    CREATE TRIGGER persons_issued AFTER INSERT ON persons BEGIN
        INSERT INTO issued_ids VALUES ('persons', NEW.id)
        ON CONFLICT(tbl) DO UPDATE SET last = MAX(last, excluded.last);
    END;
    WITH logged(doc) AS (
        SELECT CASE WHEN json_valid(state) THEN state ELSE '{}' END
        FROM (SELECT before AS state FROM edits UNION ALL SELECT after FROM edits)
    ), named(tbl, id) AS (
        SELECT 'faces', MAX(id) FROM faces
        UNION ALL SELECT 'files', MAX(id) FROM files
        UNION ALL SELECT 'persons', MAX(id) FROM persons
        UNION ALL SELECT 'faces', CAST(e.key AS INTEGER) FROM logged, json_each(doc, '$.faces') e
        UNION ALL SELECT 'persons', json_extract(e.value, '$[0]')
            FROM logged, json_each(doc, '$.faces') e
        UNION ALL SELECT 'faces', json_extract(e.value, '$[0]')
            FROM logged, json_each(doc, '$.rejections') e
        UNION ALL SELECT 'persons', json_extract(e.value, '$[1]')
            FROM logged, json_each(doc, '$.rejections') e
        UNION ALL SELECT 'persons', CAST(e.key AS INTEGER)
            FROM logged, json_each(doc, '$.persons') e
        UNION ALL SELECT 'persons', CAST(value AS INTEGER) FROM meta WHERE key = 'retired_person'
    )
    INSERT INTO issued_ids SELECT tbl, MAX(id) FROM named WHERE id IS NOT NULL GROUP BY tbl;
    DELETE FROM meta WHERE key = 'retired_person';
    """,
    # 9: a face row holds what edits change and lists read; its thumbnail (a JPEG of about
    # 10 KB) and descriptors move to tables of their own, keyed by face id. SQLite writes
    # a row whole, its blobs' overflow pages too: merging 1,000 faces wrote 8.5 MB of WAL
    # (3.7 MB now), and the worker writing it held the CPU while the window waited. A wider
    # crop's descriptor, which few faces have, gets a table of only those, so grouping
    # reads them without visiting every face. ON DELETE CASCADE: faces forgotten or
    # detected again take their blobs along. The dropped columns' pages are given back
    # after the upgrade (Catalog._reclaim_space).
    """
    CREATE TABLE face_thumbs (
        face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        jpeg BLOB NOT NULL                   -- small JPEG for the GUI
    );
    CREATE TABLE face_embeddings (
        face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        vector BLOB NOT NULL                 -- float32, made by faces.model
    );
    CREATE TABLE face_wide_embeddings (      -- turned faces only
        face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
        vector BLOB NOT NULL                 -- float32 from a wider crop, same model
    );
    INSERT INTO face_thumbs SELECT id, thumb FROM faces WHERE thumb IS NOT NULL;
    INSERT INTO face_embeddings SELECT id, embedding FROM faces WHERE embedding IS NOT NULL;
    INSERT INTO face_wide_embeddings
    SELECT id, wide_embedding FROM faces WHERE wide_embedding IS NOT NULL;
    ALTER TABLE faces DROP COLUMN thumb;     -- first: the other two rewrite small rows
    ALTER TABLE faces DROP COLUMN embedding;
    ALTER TABLE faces DROP COLUMN wide_embedding;
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    error: str | None
    missing: bool = False  # not found by the last scan; its faces and edits are kept


# face id, metadata name, name applied before, person id, locked, the person's name
PendingName = tuple[int, str, str | None, int | None, bool, str | None]


@dataclass(frozen=True)
class PhotoRow:
    """A photo in a person's (or several people's) photos by date."""

    id: int
    path: str  # relative to the library root
    taken: str  # 'YYYY-MM-DD HH:MM:SS' (EXIF date taken, else the file's mtime); '' unknown
    face_id: int  # a face of those people in it (the photo viewer opens on it)


@dataclass(frozen=True)
class FaceRecord:
    """One detected face as the pipeline produces it (before it has an id)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    thumb: bytes
    embedding: np.ndarray
    model: str
    yaw: float | None = None  # how far the face is turned (the detector's); None unknown
    wide_embedding: np.ndarray | None = None  # a turned face's, from a wider crop; else None


class PersonSummary(NamedTuple):
    """One person as lists show it (a tuple: thousands are made per read, cheaply)."""

    id: int
    name: str | None
    hidden: bool
    faces: int
    cover_face: int

    @property
    def display_name(self) -> str:
        return self.name or default_person_name(self.id)


def default_person_name(person_id: int) -> str:
    return f"Person {person_id:03d}"


def damaged_message(path: Path, problem: str, good: Path | None) -> str:
    advice = (
        f"The newest good backup is {good}; put it back with: faceorganizer restore '{good}'"
        if good
        else "There is no backup of it."
    )
    return f"the catalog {path} is damaged ({problem}). {advice}"


def default_catalog_path(root: Path) -> Path:
    """Per-user catalog for a library root; never inside the photo folder."""
    root = root.resolve()
    digest = hashlib.sha1(str(root).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    safe = "".join(c if c.isalnum() else "_" for c in root.name)[:40] or "library"
    return Path(platformdirs.user_data_dir(APP_NAME)) / "libraries" / f"{safe}-{digest}.sqlite"


class Catalog:
    """All reads and writes of one library's catalog."""

    def __init__(self, path: Path, *, root: Path | None = None, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 10000")
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
            self._check_version()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if "malformed" in str(exc):
                raise DamagedCatalog(self.path, str(exc)) from exc
            raise CatalogError(f"cannot open catalog {self.path}: {exc}") from exc
        except backup.BackupError as exc:
            self.db.close()
            raise CatalogError(f"not upgrading {self.path} without a backup: {exc}") from exc
        if root is not None:
            self.set_root(root)

    # ------------------------------------------------------------------ schema
    def _check_version(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"{self.path} was written by a newer faceorganizer (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}). Update faceorganizer to open it."
            )

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version()
        self._check_version()
        if 0 < version < SCHEMA_VERSION:
            self.backup(f"before-schema-{SCHEMA_VERSION}")
        for number in range(version, SCHEMA_VERSION):
            # executescript runs the step and its version bump in one transaction.
            try:
                self.db.executescript(
                    f"BEGIN IMMEDIATE; {_MIGRATIONS[number]}; "
                    f"PRAGMA user_version = {number + 1}; COMMIT;"
                )
            except sqlite3.Error as exc:
                self.db.rollback()
                raise CatalogError(f"cannot upgrade {self.path}: {exc}") from exc
        if 0 < version < SCHEMA_VERSION:
            self._reclaim_space()

    def _reclaim_space(self) -> None:
        """After an upgrade. One that moved the blobs (schema 9) leaves their old pages
        free, half the file of a large library (1.1 of 2.3 GB at 10^5 faces), and a WAL as
        large as the file, which SQLite keeps until the last connection closes. VACUUM
        gives the pages back (6.5 s of the 52-68 s that upgrade took on 2 shared cores),
        a truncating checkpoint the WAL. A VACUUM that fails (no room for its copy)
        leaves the catalog as it was, only larger."""
        free = int(self.db.execute("PRAGMA freelist_count").fetchone()[0])
        if free * 4 > int(self.db.execute("PRAGMA page_count").fetchone()[0]):
            with suppress(sqlite3.OperationalError):
                self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: committed on success, rolled back on any error."""
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.commit()

    def close(self) -> None:
        self.db.close()

    def change_mark(self) -> tuple[int, int]:
        """Changes so far: (other connections' commits as ``PRAGMA data_version`` counts
        them, rows this connection changed). Equal marks mean nothing was written in
        between, so what was read before still holds."""
        version = int(self.db.execute("PRAGMA data_version").fetchone()[0])
        return version, self.db.total_changes

    def _rows_at_once(self, columns: str, query: str, args: Iterable[object] = ()) -> list[list]:
        """The rows of ``query`` (these ``columns`` of it) as one JSON value, in the
        query's order (an aggregate over an ordered subquery keeps it).

        Why: SQLite hands the GIL back for every row stepped through, and a thread that
        reads thousands of rows one by one keeps the GUI thread from getting it back
        for 50 ms and more (each handover goes to the reader again); one step and one
        parse in C give it a chance every few milliseconds."""
        text = self.db.execute(
            f"SELECT json_group_array(json_array({columns})) FROM ({query})", tuple(args)
        ).fetchone()[0]
        return json.loads(text)

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def verify(self) -> None:
        """Refuse a damaged catalog, naming the backup to put back. Reads the whole file
        (about 1 s for 100 000 faces), so it runs once when a library is opened."""
        try:
            problem = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
        if problem != "ok":
            raise DamagedCatalog(self.path, problem)

    def backup(self, reason: str) -> Path:
        """Copy the catalog (SQLite online backup) before a step that could lose work."""
        return backup.make_backup(self.db, self.path, reason)

    def backup_to(self, path: Path) -> None:
        """A consistent copy of this catalog at ``path`` (SQLite online backup: safe
        while others read or write)."""
        backup.copy_database(self.db, path)

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def root(self) -> Path | None:
        value = self.get_meta("root")
        return None if value is None else Path(value)

    def set_root(self, root: Path) -> None:
        if self.root != root.resolve():
            self.set_meta("root", str(root.resolve()))

    # ------------------------------------------------------------------ settings
    def settings(self) -> Settings:
        """How this library is scanned and grouped: what its last scan or regroup used,
        the defaults for what was never recorded (a new library, or an older catalog)."""
        return Settings(**self.settings_record())

    def settings_record(self) -> dict[str, object]:
        """The usable values the catalog records (an older catalog's record may hold only
        its detector, a new library's none)."""
        try:
            stored = json.loads(self.get_meta("settings") or "{}")
        except json.JSONDecodeError:
            stored = {}
        if not isinstance(stored, dict):
            return {}
        return {k: v for k, v in stored.items() if _valid_setting(k, v)}

    def has_grouping(self) -> bool:
        """Has a scan or regroup recorded how this library groups its faces?"""
        return "algorithm" in self.settings_record()

    def save_settings(self, settings: Settings) -> None:
        """Record how the library is scanned and grouped from now on."""
        with self.transaction():
            self.write_settings_record(settings.record())

    def write_settings_record(self, record: dict[str, object]) -> None:
        """Replace the settings record inside the caller's transaction (undo of a regroup
        puts back the one it replaced)."""
        self.db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('settings', ?)", (json.dumps(record),)
        )

    # ------------------------------------------------------------------ files
    def files(self, status: str | None = None, *, include_missing: bool = False) -> list[FileRow]:
        """Files found by the last scan (with ``status``), plus missing ones if asked."""
        sql = "SELECT id, path, size, mtime_ns, hash, status, error, missing FROM files"
        where = [] if include_missing else ["missing = 0"]
        args: tuple[str, ...] = ()
        if status:
            where.append("status = ?")
            args = (status,)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.execute(sql + " ORDER BY path", args)
        return [FileRow(*row[:7], missing=bool(row[7])) for row in rows]

    def file_path(self, file_id: int) -> Path:
        row = self.db.execute("SELECT path FROM files WHERE id = ?", (file_id,)).fetchone()
        root = self.root
        if row is None or root is None:
            raise KeyError(file_id)
        return root / row[0]

    def add_file(self, path: str, size: int, mtime_ns: int, content_hash: str | None) -> int:
        with self.transaction():
            file_id = self._next_id("files")
            self.db.execute(
                "INSERT INTO files(id, path, size, mtime_ns, hash) VALUES (?, ?, ?, ?, ?)",
                (file_id, path, size, mtime_ns, content_hash),
            )
        return file_id

    def _next_id(self, table: str) -> int:
        """An id no row of ``table`` ever had (SQLite's own max(id) + 1 hands a deleted
        row's id out again, and the undo log may still name it): see the issued_ids migration."""
        row = self.db.execute(
            "SELECT COALESCE(MAX(last), 0) + 1 FROM issued_ids WHERE tbl = ?", (table,)
        ).fetchone()
        return int(row[0])

    def move_file(self, file_id: int, path: str, size: int, mtime_ns: int) -> None:
        """A file was renamed or moved, or came back: keep its faces and the user's work."""
        with self.transaction():
            self.db.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ?, missing = 0 WHERE id = ?",
                (path, size, mtime_ns, file_id),
            )

    def reset_file(self, file_id: int, size: int, mtime_ns: int, content_hash: str | None) -> None:
        """The content changed: drop its faces and process it again."""
        with self.transaction():
            self.db.execute("DELETE FROM faces WHERE file_id = ?", (file_id,))
            self.db.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, hash = ?, status = 'pending', "
                "error = NULL, missing = 0 WHERE id = ?",
                (size, mtime_ns, content_hash, file_id),
            )

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Same content as before (size or time changed, or it was missing): found again."""
        with self.transaction():
            self.db.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, missing = 0 WHERE id = ?",
                (size, mtime_ns, file_id),
            )

    def mark_missing(self, file_ids: Iterable[int]) -> None:
        """The scan no longer sees these files: keep them, their faces and edits."""
        with self.transaction():
            self.db.executemany(
                "UPDATE files SET missing = 1 WHERE id = ?", [(i,) for i in file_ids]
            )

    def missing_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM files WHERE missing = 1").fetchone()[0])

    def missing_file_ids(self) -> list[int]:
        """The files the last scan did not find, by id: which faces are missing follows."""
        rows = self._rows_at_once("id", "SELECT id FROM files WHERE missing = 1 ORDER BY id")
        return [file for (file,) in rows]

    def missing_face_ids(self) -> list[int]:
        """Faces of the files the last scan did not find (shown greyed)."""
        rows = self._rows_at_once(
            "id",
            "SELECT faces.id FROM faces JOIN files ON files.id = faces.file_id "
            "WHERE files.missing = 1",
        )
        return [face for (face,) in rows]

    def people_only_in_missing(self) -> list[int]:
        """People whose every face is in a missing photo: forgetting those removes them."""
        rows = self.db.execute(
            "SELECT faces.person_id FROM faces JOIN files ON files.id = faces.file_id "
            "WHERE faces.person_id IS NOT NULL AND faces.ignored = 0 "
            "GROUP BY faces.person_id HAVING MIN(files.missing) = 1 ORDER BY faces.person_id"
        )
        return [int(r[0]) for r in rows]

    def missing_paths(self) -> set[str]:
        """Relative paths of the files the last scan did not find."""
        return {str(r[0]) for r in self.db.execute("SELECT path FROM files WHERE missing = 1")}

    def forget_missing(self) -> tuple[int, int]:
        """Remove the missing files and their faces for good; returns (files, faces)."""
        with self.transaction():
            faces = self.db.execute(
                "SELECT COUNT(*) FROM faces JOIN files ON files.id = faces.file_id "
                "WHERE files.missing = 1"
            ).fetchone()[0]
            files = self.db.execute("DELETE FROM files WHERE missing = 1").rowcount
        return int(files), int(faces)

    def record_faces(
        self, file_id: int, faces: list[FaceRecord], size: tuple[int, int] | None
    ) -> list[int]:
        """Store one processed file's faces and mark it done, atomically."""
        with self.transaction():
            self.db.execute("DELETE FROM faces WHERE file_id = ?", (file_id,))
            first = self._next_id("faces")
            ids = list(range(first, first + len(faces)))
            for face_id, face in zip(ids, faces, strict=True):
                self.db.execute(
                    "INSERT INTO faces(id, file_id, x0, y0, x1, y1, score, landmarks, model, "
                    "yaw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        face_id,
                        file_id,
                        *face.box,
                        face.score,
                        np.asarray(face.landmarks, np.float32).tobytes(),
                        face.model,
                        face.yaw,
                    ),
                )
                self.db.execute("INSERT INTO face_thumbs VALUES (?, ?)", (face_id, face.thumb))
                self.db.execute(
                    "INSERT INTO face_embeddings VALUES (?, ?)",
                    (face_id, np.asarray(face.embedding, np.float32).tobytes()),
                )
                if face.wide_embedding is not None:
                    self.db.execute(
                        "INSERT INTO face_wide_embeddings VALUES (?, ?)",
                        (face_id, np.asarray(face.wide_embedding, np.float32).tobytes()),
                    )
            width, height = size if size else (None, None)
            self.db.execute(
                "UPDATE files SET status = 'done', error = NULL, width = ?, height = ? "
                "WHERE id = ?",
                (width, height, file_id),
            )
        return ids

    def record_error(self, file_id: int, message: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE files SET status = 'error', error = ? WHERE id = ?", (message, file_id)
            )

    def errors(self) -> list[tuple[str, str]]:
        rows = self.db.execute(
            "SELECT path, error FROM files WHERE status = 'error' ORDER BY path"
        ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def pending_count(self) -> int:
        """Photos still to process: what a stopped scan left (missing ones wait)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM files WHERE status = 'pending' AND missing = 0"
        ).fetchone()
        return int(row[0])

    def largest_faces(self) -> dict[str, tuple[bool, int | None]]:
        """Relative path -> (has a usable face, person of its largest one) for each
        processed photo: what a one-person-per-photo evaluation compares."""
        rows = self.db.execute(
            "SELECT files.path, faces.person_id, (x1 - x0) * (y1 - y0) AS area FROM files "
            "LEFT JOIN faces ON faces.file_id = files.id AND faces.ignored = 0 "
            "WHERE files.status = 'done' ORDER BY files.path, area DESC"
        )
        largest: dict[str, tuple[bool, int | None]] = {}
        for path, person, area in rows:
            largest.setdefault(str(path), (area is not None, person))
        return largest

    # ------------------------------------------------------------------ faces
    def face_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM faces").fetchone()[0])

    def embeddings(self, model: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(face ids, file ids, embeddings) of every usable face: not ignored, embedded.

        Only embeddings of one model are returned, so spaces never mix.
        """
        model = model or self.dominant_model()
        rows = self.db.execute(
            "SELECT id, file_id, vector FROM faces JOIN face_embeddings ON face_id = id "
            "WHERE ignored = 0 AND model = ? ORDER BY id",
            (model,),
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        files = np.array([r[1] for r in rows], dtype=np.int64)
        if not rows:
            return ids, files, np.zeros((0, 128), np.float32)
        vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return ids, files, vectors

    def yaws(self, face_ids: np.ndarray) -> np.ndarray:
        """How far each of these faces is turned (the detector's yaw), in their order; NaN
        where the detector did not say or the face is gone."""
        rows = self._rows_at_once(
            "yaw",
            "SELECT faces.yaw FROM json_each(?) AS wanted "
            "LEFT JOIN faces ON faces.id = wanted.value ORDER BY wanted.key",
            (_json_ids(face_ids),),
        )
        # JSON keeps 15 digits: a yaw may move by 1e-16, nothing next to TURNED_YAW's 0.2
        return np.array([yaw for (yaw,) in rows], np.float64)  # None (SQL NULL) -> NaN

    def wide_embeddings(self, face_ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` (these faces' embeddings, in their order) with each turned face's
        replaced by its descriptor from a wider crop, where the scan made one. Reads only
        the turned faces' rows (a table of their own), never every face."""
        out = np.array(vectors, np.float32, copy=True)
        index = {int(f): i for i, f in enumerate(face_ids)}
        rows = self.db.execute("SELECT face_id, vector FROM face_wide_embeddings")
        for face, blob in rows:
            if int(face) in index:
                out[index[int(face)]] = np.frombuffer(blob, np.float32)
        return out

    def dominant_model(self) -> str | None:
        row = self.db.execute(
            "SELECT model FROM faces WHERE model IS NOT NULL GROUP BY model "
            "ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def face_state(self, face_ids: Iterable[int]) -> dict[int, tuple[int | None, int, int]]:
        """face id -> (person_id, locked, ignored)."""
        rows = self._rows_at_once(
            "id, person_id, locked, ignored",
            "SELECT id, person_id, locked, ignored FROM faces "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (_json_ids(face_ids),),
        )
        return {face: (person, locked, ignored) for face, person, locked, ignored in rows}

    def persons_of_faces(self, face_ids: Iterable[int]) -> set[int]:
        """The people these faces are in now (one row per person, not one per face)."""
        rows = self.db.execute(
            "SELECT DISTINCT person_id FROM faces WHERE person_id IS NOT NULL AND id IN "
            "(SELECT value FROM json_each(?))",
            (_json_ids(face_ids),),
        )
        return {int(r[0]) for r in rows}

    def assignments(self) -> dict[int, tuple[int | None, bool]]:
        """face id -> (person id, locked) for every face that is not ignored."""
        rows = self.db.execute("SELECT id, person_id, locked FROM faces WHERE ignored = 0")
        return {int(r[0]): (r[1], bool(r[2])) for r in rows}

    def rejections(self) -> list[tuple[int, int]]:
        rows = self._rows_at_once("face_id, person_id", "SELECT face_id, person_id FROM rejections")
        return [(face, person) for face, person in rows]

    def faces_of_person(self, person_id: int | None) -> list[int]:
        if person_id is None:
            sql, args = "person_id IS NULL AND ignored = 0", ()
        else:
            sql, args = "person_id = ? AND ignored = 0", (person_id,)
        rows = self._rows_at_once(
            "id", f"SELECT id FROM faces WHERE {sql} ORDER BY score DESC, id", args
        )
        return [r[0] for r in rows]

    def thumbnail(self, face_id: int) -> bytes | None:
        row = self.db.execute(
            "SELECT jpeg FROM face_thumbs WHERE face_id = ?", (face_id,)
        ).fetchone()
        return None if row is None else row[0]

    def face_info(self, face_id: int) -> dict[str, object]:
        """Everything the GUI shows about one face: source photo, box, person."""
        row = self.db.execute(
            "SELECT faces.id, files.path, x0, y0, x1, y1, score, person_id, locked, ignored, "
            "files.missing FROM faces JOIN files ON files.id = faces.file_id WHERE faces.id = ?",
            (face_id,),
        ).fetchone()
        if row is None:
            raise KeyError(face_id)
        return dict(row)

    def usable_face_count(self) -> int:
        """Faces that are not marked "not a face"."""
        return int(self.db.execute("SELECT COUNT(*) FROM faces WHERE ignored = 0").fetchone()[0])

    def faces_in_photo_of(self, face_id: int) -> list[tuple[int, tuple[float, ...], int | None]]:
        """(face id, box, person id) of every usable face in the photo this face is from."""
        rows = self.db.execute(
            "SELECT id, x0, y0, x1, y1, person_id FROM faces WHERE file_id = "
            "(SELECT file_id FROM faces WHERE id = ?) AND ignored = 0 ORDER BY id",
            (face_id,),
        )
        return [(int(r[0]), (r[1], r[2], r[3], r[4]), r[5]) for r in rows]

    def face_boxes(self) -> list[tuple[str, tuple[float, ...]]]:
        """(relative path, box) of every detected face, ignored ones included."""
        rows = self.db.execute(
            "SELECT files.path, x0, y0, x1, y1 FROM faces JOIN files ON files.id = file_id "
            "ORDER BY faces.id"
        )
        return [(str(r[0]), (r[1], r[2], r[3], r[4])) for r in rows]

    def person_ids(self, face_ids: np.ndarray) -> np.ndarray:
        """Person id per face (-1 = none or unknown face), e.g. to colour the map.

        One string from SQLite parsed by numpy: ten times faster than 50 000 Python rows.
        """
        face_ids = np.asarray(face_ids, np.int64)
        if not len(face_ids):
            return np.zeros(0, np.int64)
        cursor = self.db.cursor()
        cursor.row_factory = None
        text = cursor.execute(
            "SELECT group_concat(id || ',' || COALESCE(person_id, -1)) FROM faces"
        ).fetchone()[0]
        if not text:
            return np.full(len(face_ids), -1, np.int64)
        table = np.array(text.split(","), dtype=np.int64).reshape(-1, 2)
        table = table[np.argsort(table[:, 0])]
        where = np.clip(np.searchsorted(table[:, 0], face_ids), 0, len(table) - 1)
        found = table[where, 0] == face_ids
        return np.where(found, table[where, 1], -1).astype(np.int64)

    # ------------------------------------------------------------------ persons
    def persons(self, include_hidden: bool = False) -> list[PersonSummary]:
        """People with at least one face, largest first."""
        return [
            PersonSummary(person, name, bool(hidden), n, cover)
            for person, name, hidden, n, cover in self.person_rows(include_hidden)
        ]

    def person_rows(
        self, include_hidden: bool = False, only: Iterable[int] | None = None
    ) -> list[list]:
        """:meth:`persons` as plain [id, name, hidden, faces, cover face] lists, for the
        GUI's worker: every Python call per person there is time the window waits.
        ``only``: just these people (those an edit touched), not all of them."""
        where = [] if include_hidden else ["p.hidden = 0"]
        args: tuple[object, ...] = ()
        if only is not None:
            where.append("p.id IN (SELECT value FROM json_each(?))")
            args = (_json_ids(only),)
        return self._rows_at_once(
            "id, name, hidden, n, cover",
            "SELECT p.id, p.name, p.hidden, COUNT(f.id) AS n, "
            "(SELECT id FROM faces WHERE person_id = p.id AND ignored = 0 "
            " ORDER BY score DESC, id LIMIT 1) AS cover "
            "FROM persons p JOIN faces f ON f.person_id = p.id AND f.ignored = 0 "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + "GROUP BY p.id ORDER BY n DESC, p.id",
            args,
        )

    def person(self, person_id: int) -> PersonSummary:
        for summary in self.persons(include_hidden=True):
            if summary.id == person_id:
                return summary
        raise KeyError(person_id)

    def person_files(self) -> list[tuple[int | None, int, str, tuple[float, ...]]]:
        """(person id, file id, relative path, face box) for every usable face."""
        rows = self.db.execute(
            "SELECT faces.person_id, files.id, files.path, x0, y0, x1, y1 FROM faces "
            "JOIN files ON files.id = faces.file_id LEFT JOIN persons ON persons.id = "
            "faces.person_id WHERE faces.ignored = 0 AND COALESCE(persons.hidden, 0) = 0 "
            "ORDER BY files.path, faces.id"
        ).fetchall()
        return [(r[0], r[1], r[2], (r[3], r[4], r[5], r[6])) for r in rows]

    def new_person(self, name: str | None = None) -> int:
        with self.transaction():
            person_id = self.next_person_id()
            self.db.execute("INSERT INTO persons(id, name) VALUES (?, ?)", (person_id, name))
        return person_id

    def person_names(self) -> dict[int, str]:
        rows = self._rows_at_once("id, name", "SELECT id, name FROM persons")
        return {person: name or default_person_name(person) for person, name in rows}

    def given_names(self) -> dict[int, str]:
        """The names users gave (others are :func:`default_person_name`)."""
        rows = self._rows_at_once("id, name", "SELECT id, name FROM persons WHERE name != ''")
        return dict(rows)

    # ------------------------------------------------------------------ edits
    # Rows as the undo log stores them; the writes run inside the editor's transaction.
    def person_state(self, person_id: int) -> tuple[str | None, int] | None:
        """(name, hidden) of a person, or None when there is no such row."""
        row = self.db.execute(
            "SELECT name, hidden FROM persons WHERE id = ?", (person_id,)
        ).fetchone()
        return None if row is None else (row[0], int(row[1]))

    def next_person_id(self) -> int:
        """An id no person ever had: the undo log may still refer to a deleted one."""
        return self._next_id("persons")

    def rejected_pairs(self, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these (face, person) pairs carry a "not this person"."""
        wanted = [[int(face), int(person)] for face, person in pairs]
        if not wanted:
            return set()
        rows = self._rows_at_once(
            "face_id, person_id",
            "SELECT face_id, person_id FROM rejections WHERE (face_id, person_id) IN "
            "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
            (json.dumps(wanted),),
        )
        return {(face, person) for face, person in rows}

    def write_persons(self, persons: dict[int, tuple[str | None, int]]) -> None:
        """Create or update person rows: id -> (name, hidden)."""
        self.db.executemany(
            "INSERT INTO persons(id, name, hidden) VALUES (?, ?, ?) ON CONFLICT(id) "
            "DO UPDATE SET name = excluded.name, hidden = excluded.hidden",
            [(pid, name, hidden) for pid, (name, hidden) in persons.items()],
        )

    def ensure_persons(self, person_ids: Iterable[int]) -> None:
        """Bring back person rows a re-cluster dropped, so faces can point at them."""
        self.db.executemany(
            "INSERT OR IGNORE INTO persons(id) VALUES (?)", [(p,) for p in person_ids]
        )

    def delete_persons(self, person_ids: Iterable[int]) -> None:
        """Delete person rows; their ids are never given to a new person (issued_ids)."""
        self.db.executemany("DELETE FROM persons WHERE id = ?", [(p,) for p in person_ids])

    def write_face_states(self, faces: dict[int, tuple[int | None, int, int]]) -> None:
        """face id -> (person id, locked, ignored); faces forgotten since are skipped.
        One UPDATE per distinct state, not one per face (see :meth:`_rows_at_once`)."""
        by_state: dict[tuple[int | None, int, int], list[int]] = {}
        for face_id, (person, locked, ignored) in faces.items():
            by_state.setdefault((person, locked, ignored), []).append(face_id)
        for (person, locked, ignored), ids in by_state.items():
            self.db.execute(
                "UPDATE faces SET person_id = ?, locked = ?, ignored = ? "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (person, locked, ignored, _json_ids(ids)),
            )

    def write_rejections(self, rejections: dict[tuple[int, int], bool]) -> None:
        """(face, person) -> present. A face or person that no longer exists is skipped
        (an undo after its photo was forgotten), instead of breaking the foreign key."""
        for (face_id, person_id), present in rejections.items():
            if present:
                self.db.execute(
                    "INSERT OR IGNORE INTO rejections SELECT ?, ? WHERE EXISTS "
                    "(SELECT 1 FROM faces WHERE id = ?) AND EXISTS "
                    "(SELECT 1 FROM persons WHERE id = ?)",
                    (face_id, person_id, face_id, person_id),
                )
            else:
                self.db.execute(
                    "DELETE FROM rejections WHERE face_id = ? AND person_id = ?",
                    (face_id, person_id),
                )

    def log_edit(self, label: str, before: str, after: str) -> int:
        """Record an edit in the undo log; a new edit ends the redo branch."""
        self.db.execute("DELETE FROM edits WHERE undone = 1")
        cur = self.db.execute(
            "INSERT INTO edits(label, before, after) VALUES (?, ?, ?)", (label, before, after)
        )
        return int(cur.lastrowid or 0)

    def last_edit(self, undone: bool) -> tuple[int, str, str, str] | None:
        """(id, label, before, after) of the edit an undo (or a redo) would step over."""
        order = "ASC" if undone else "DESC"
        row = self.db.execute(
            f"SELECT id, label, before, after FROM edits WHERE undone = ? ORDER BY id {order} "
            "LIMIT 1",
            (int(undone),),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def mark_edit(self, edit_id: int, undone: bool) -> None:
        self.db.execute("UPDATE edits SET undone = ? WHERE id = ?", (int(undone), edit_id))

    def has_user_edits(self) -> bool:
        """Has the user placed, rejected, named or hidden anything (work a regroup keeps)?"""
        row = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM faces WHERE locked = 1 OR ignored = 1) "
            "OR EXISTS (SELECT 1 FROM rejections) "
            "OR EXISTS (SELECT 1 FROM persons WHERE name IS NOT NULL OR hidden = 1)"
        ).fetchone()
        return bool(row[0])

    def unnamed_persons(self) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT id FROM persons WHERE name IS NULL")]

    def unknown_faces(self) -> tuple[int, int | None]:
        """(count, cover face) of usable faces that belong to no person yet."""
        row = self.db.execute(
            "SELECT COUNT(*), (SELECT id FROM faces WHERE person_id IS NULL AND ignored = 0 "
            "ORDER BY score DESC, id LIMIT 1) FROM faces WHERE person_id IS NULL AND ignored = 0"
        ).fetchone()
        return int(row[0]), None if row[1] is None else int(row[1])

    def clear_undo_log(self) -> None:
        """Forget every recorded edit (the edits stay applied; they just cannot be undone)."""
        with self.transaction():
            self.db.execute("DELETE FROM edits")

    # ------------------------------------------------------------------ photo metadata
    def update_sidecar_signatures(self, signatures: dict[str, str]) -> None:
        """Record which sidecars each photo (by path) has now; see xmp_read."""
        known = dict(self.db.execute("SELECT path, xmp_sig FROM files"))
        changed = [(sig, path) for path, sig in signatures.items() if known.get(path, sig) != sig]
        if changed:
            with self.transaction():
                self.db.executemany("UPDATE files SET xmp_sig = ? WHERE path = ?", changed)

    def files_needing_metadata(self) -> list[FileRow]:
        """Processed photos whose metadata was never read or whose sidecars changed."""
        rows = self.db.execute(
            "SELECT id, path, size, mtime_ns, hash, status, error FROM files "
            "WHERE status = 'done' AND missing = 0 AND xmp_seen IS NOT xmp_sig ORDER BY path"
        )
        return [FileRow(*row) for row in rows]

    def file_faces(self, file_id: int) -> list[tuple[int, tuple[float, float, float, float]]]:
        """(face id, box) of a photo's faces that are not marked "not a face"."""
        rows = self.db.execute(
            "SELECT id, x0, y0, x1, y1 FROM faces WHERE file_id = ? AND ignored = 0 ORDER BY id",
            (file_id,),
        )
        return [(int(r[0]), (r[1], r[2], r[3], r[4])) for r in rows]

    def file_size(self, file_id: int) -> tuple[int, int] | None:
        """Upright width and height of a processed photo."""
        row = self.db.execute("SELECT width, height FROM files WHERE id = ?", (file_id,)).fetchone()
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    def record_metadata(self, file_id: int, taken: str, names: dict[int, str]) -> None:
        """Store a photo's date taken and the names its regions give its faces, and note
        that its current sidecars have been read."""
        with self.transaction():
            self.db.execute(
                "UPDATE files SET taken = ?, xmp_seen = xmp_sig WHERE id = ?", (taken, file_id)
            )
            self.db.execute(
                "UPDATE faces SET xmp_name = NULL WHERE file_id = ? AND xmp_name IS NOT NULL",
                (file_id,),
            )
            self.db.executemany(
                "UPDATE faces SET xmp_name = ? WHERE id = ?",
                [(name, face_id) for face_id, name in names.items()],
            )

    def pending_region_names(self) -> list[PendingName]:
        """Faces whose metadata name has not been put into a person yet: (face id, name,
        name applied before, person id, locked, person's name)."""
        rows = self.db.execute(
            "SELECT faces.id, xmp_name, xmp_applied, person_id, locked, persons.name "
            "FROM faces LEFT JOIN persons ON persons.id = faces.person_id "
            "WHERE xmp_name IS NOT NULL AND xmp_applied IS NOT xmp_name AND ignored = 0 "
            "ORDER BY faces.id"
        )
        return [(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def mark_region_names_applied(self, face_ids: Iterable[int]) -> None:
        with self.transaction():
            self.db.executemany(
                "UPDATE faces SET xmp_applied = xmp_name WHERE id = ?", [(f,) for f in face_ids]
            )

    def person_ids_by_name(self) -> dict[str, int]:
        """casefolded name -> person id; of two people with one name, the one with more
        faces (then the older one)."""
        rows = self.db.execute(
            "SELECT p.id, p.name FROM persons p LEFT JOIN faces f ON f.person_id = p.id "
            "WHERE p.name IS NOT NULL GROUP BY p.id ORDER BY COUNT(f.id) DESC, p.id"
        )
        found: dict[str, int] = {}
        for person_id, name in rows:
            found.setdefault(str(name).casefold(), int(person_id))
        return found

    def photos_with_all(self, person_ids: Iterable[int]) -> list[PhotoRow]:
        """The photos that show every one of these people, by date taken (oldest first).
        One person: that person's photos."""
        ids = sorted(set(person_ids))
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT files.id, files.path, COALESCE(files.taken, ''), MIN(faces.id) FROM faces "
            "JOIN files ON files.id = faces.file_id "
            f"WHERE faces.ignored = 0 AND faces.person_id IN ({marks}) GROUP BY files.id "
            "HAVING COUNT(DISTINCT faces.person_id) = ? "
            "ORDER BY files.taken IS NULL, files.taken, files.path",
            (*ids, len(ids)),
        )
        return [PhotoRow(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    # ------------------------------------------------------------------ layout
    def layout(self) -> dict[int, tuple[float, float]]:
        return {int(r[0]): (r[1], r[2]) for r in self.db.execute("SELECT * FROM layout")}

    def set_layout(self, face_ids: np.ndarray, xy: np.ndarray) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM layout")
            self.db.executemany(
                "INSERT INTO layout(face_id, x, y) VALUES (?, ?, ?)",
                [(int(i), float(p[0]), float(p[1])) for i, p in zip(face_ids, xy, strict=True)],
            )

    # ------------------------------------------------------------------ summary
    def stats(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "files": one("SELECT COUNT(*) FROM files").fetchone()[0],
            "pending": self.pending_count(),
            "errors": one("SELECT COUNT(*) FROM files WHERE status = 'error'").fetchone()[0],
            "missing": self.missing_count(),
            "faces": self.usable_face_count(),
            "people": len(self.persons()),
            "unassigned": self.unknown_faces()[0],
        }


_SETTING_CHOICES: dict[str, object] = {
    "detector": config.DETECTORS,
    "embedder": config.EMBEDDERS,
    "algorithm": config.ALGORITHMS,
}


def _valid_setting(key: str, value: object) -> bool:
    """A stored value this version can use (a name it knows, a number of the right kind);
    anything else falls back to the default."""
    if key in _SETTING_CHOICES:
        return value in _SETTING_CHOICES[key]  # type: ignore[operator]
    if key == "max_side":
        return isinstance(value, int) and value > 0
    if key == "threshold":
        return value is None or (isinstance(value, int | float) and value > 0)
    return False


def _json_ids(ids: Iterable[int]) -> str:
    """Ids as one JSON array bound to one parameter (read back with json_each)."""
    return json.dumps([int(i) for i in ids])
