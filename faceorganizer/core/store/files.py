"""Writing files so no reader ever sees half of one, and hashing file contents.

Model conversions, the kNN cache, exported copies and the export manifest are all written
to a temporary file in the target's folder and renamed over the target: a crash, a full
disk or a cancel leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when the block
    ends without an error, deleted when it raises. The temporary name is hidden
    (``.name.xxxx.tmp``) so half-written files do not show up in the folder."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        os.chmod(temp, 0o644)  # mkstemp makes 0600; none of these files are secret
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        temp.write_bytes(data)


def _file_digest(path: Path, new: Callable[[], Any]) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, new).hexdigest()


def content_hash(path: Path) -> str | None:
    """128-bit blake2b of a photo's content (how a moved file is recognised), or None
    when it cannot be read."""
    try:
        return _file_digest(path, lambda: hashlib.blake2b(digest_size=16))
    except OSError:
        return None


def sha256(path: Path) -> str:
    """SHA-256 of a model file: names its cached conversion."""
    return _file_digest(path, hashlib.sha256)
