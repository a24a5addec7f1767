"""Command line: scan | cluster | export | eval | info | people | rename | forget-missing |
restore. Stable: scripts depend on it. Exit codes: 0 done, 1 error (with a message),
2 bad arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from tqdm import tqdm

from faceorganizer import __version__
from faceorganizer.config import (
    ALGORITHMS,
    APP_NAME,
    DETECTORS,
    EMBEDDERS,
    Settings,
)
from faceorganizer.core.library.export import ExportError, Mode, Options, export
from faceorganizer.core.store import backup
from faceorganizer.core.store.catalog import Catalog, CatalogError, default_catalog_path
from faceorganizer.wording import count, noun

if TYPE_CHECKING:
    from faceorganizer.core.library.names import MetadataReport
    from faceorganizer.core.library.scan import Progress

# The models and the clustering (dlib, onnxruntime, scipy) are imported by the commands
# that use them, so that opening the app does not wait for them.
COMMANDS = (
    "scan", "cluster", "export", "eval", "info", "people", "rename", "forget-missing", "restore",
)  # fmt: skip


class UsageError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def _last_library_file() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "last-catalog.txt"


def remember_catalog(path: Path) -> None:
    record = _last_library_file()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(str(path.resolve()), encoding="utf-8")


def resolve_catalog(args: argparse.Namespace) -> Path:
    """--catalog, else the catalog of --library FOLDER, else the last one scanned."""
    if args.catalog:
        return Path(args.catalog)
    if getattr(args, "library", None):
        return default_catalog_path(Path(args.library))
    record = _last_library_file()
    if record.is_file():
        return Path(record.read_text(encoding="utf-8").strip())
    raise UsageError("no library scanned yet: run 'faceorganizer scan FOLDER' first")


@contextmanager
def opened(path: Path) -> Iterator[Catalog]:
    """``open_existing`` for the length of a ``with`` block."""
    catalog = open_existing(path)
    try:
        yield catalog
    finally:
        catalog.close()


def open_existing(path: Path) -> Catalog:
    """The catalog at ``path``, refused (naming the backup to restore) if damaged."""
    if not path.is_file():
        raise UsageError(f"no catalog at {path}: run 'faceorganizer scan FOLDER' first")
    catalog = Catalog(path)
    try:
        catalog.verify()
    except CatalogError:
        catalog.close()
        raise
    return catalog


def _progress_bar(events: Iterator[Progress]) -> None:
    """Draw scan progress on stderr (tqdm hides itself when stderr is not a terminal)."""
    bar = None
    for event in events:
        if event.stage == "faces" and event.total:
            if bar is None:
                bar = tqdm(
                    total=event.total, unit="photo", desc="Finding faces", leave=False, disable=None
                )
            bar.n = event.done
            bar.refresh()
        elif event.stage == "cluster":
            if bar is not None:
                bar.close()
                bar = None
            print("Grouping faces by person…", file=sys.stderr)
    if bar is not None:
        bar.close()


def _with_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` changed by the flags that were given; an omitted flag keeps its value."""
    return settings.changed(
        workers=args.workers,
        detector=args.detector,
        embedder=args.embedder,
        algorithm=args.algorithm,
        threshold=args.threshold,
        max_side=args.max_side,
    )


def cmd_scan(args: argparse.Namespace) -> int:
    from faceorganizer.core.library.scan import ScanSummary, scan

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    catalog_path = Path(args.catalog) if args.catalog else default_catalog_path(folder)
    catalog = open_existing(catalog_path) if catalog_path.is_file() else Catalog(catalog_path)
    summary = ScanSummary()
    try:
        settings = _with_flags(catalog.settings(), args)
        events = scan(
            catalog, folder, settings, summary=summary, accept_missing=args.accept_missing
        )
        _progress_bar(events)
        remember_catalog(catalog_path)
        stats = catalog.stats()
        errors = catalog.errors()
    finally:
        catalog.close()
    sync = summary.sync
    if sync.refused:
        raise UsageError(
            f"{folder}: {sync.refused} If you removed them on purpose, scan with --accept-missing."
        )
    print(f"Catalog: {catalog_path}")
    print(
        f"Files: {stats['files']} ({sync.new} new, {sync.changed} changed, {sync.moved} moved, "
        f"{sync.missing} missing, {sync.returned} back, {summary.processed} processed)"
    )
    print(f"Faces: {stats['faces']}  People: {stats['people']}  Unassigned: {stats['unassigned']}")
    _print_names(summary.metadata)
    if stats["missing"]:
        print(
            f"Missing: {count(stats['missing'], 'photo')} not found — is the drive connected? "
            "Their faces and people are kept; 'faceorganizer forget-missing' removes them."
        )
    problems = errors + summary.sync.unreadable
    if problems:
        print(f"Skipped {count(len(problems), 'file')}:")
        for path, reason in problems:
            print(f"  {path}: {reason}")
    return 0


def _print_names(report: MetadataReport) -> None:
    """What the photos' own metadata (XMP face regions) contributed to this scan."""
    if report.regions:
        print(
            f"Names from photo metadata: {report.matched} of "
            f"{count(report.regions, 'named region')} matched a face, "
            f"{count(report.named, 'face')} named"
        )
    if report.unmatched:
        print(f"{count(len(report.unmatched), 'named region')} with no detected face:")
        for path, name in report.unmatched:
            print(f"  {path}: {name}")
    if report.warnings:
        print(f"{count(len(report.warnings), 'metadata warning')}:")
        for path, problem in report.warnings:
            print(f"  {path}: {problem}")


def cmd_cluster(args: argparse.Namespace) -> int:
    from faceorganizer.core.library.people import recluster

    with opened(resolve_catalog(args)) as catalog:
        result = recluster(catalog, args.algorithm, args.threshold, undoable=True)
    print(f"Faces: {result.faces}  People: {result.people}  Unassigned: {result.unassigned}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    catalog = open_existing(resolve_catalog(args))
    options = Options(
        Mode(args.mode), args.include_unknown, args.only_named, args.write_xmp, args.together
    )
    try:
        steps = export(catalog, Path(args.destination), options)
        with tqdm(unit="photo", desc="Exporting", leave=False, disable=None) as bar:
            while True:
                try:
                    done, total = next(steps)
                except StopIteration as stop:
                    report = stop.value
                    break
                bar.total = total
                bar.n = done
                bar.refresh()
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        catalog.close()
    print(
        f"Exported {count(report.people, 'folder')}: {count(report.written, 'file')} written, "
        f"{report.already_there} already there."
        + (f" {count(report.sidecars, 'XMP sidecar')} written." if args.write_xmp else "")
    )
    if report.missing:
        print(
            f"Skipped {count(len(report.missing), 'missing photo')} (not found — is the drive "
            "connected?); export again once they are back."
        )
    for path, reason in report.failed:
        print(f"  failed {path}: {reason}")
    return 1 if report.failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from faceorganizer.eval.evaluation import evaluate_folder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    settings = _with_flags(Settings(), args)  # scores depend on the flags alone
    result = evaluate_folder(folder, settings, Path(args.catalog) if args.catalog else None)
    if args.json:
        print(json.dumps(result))
        return 0
    for key in (
        "nmi", "ari", "pairwise_precision", "pairwise_recall", "pairwise_f",
        "bcubed_precision", "bcubed_recall", "bcubed_f",
        "e2e_pairwise_precision", "e2e_pairwise_recall", "e2e_pairwise_f", "e2e_bcubed_f",
    ):  # fmt: skip
        print(f"{key:<20} {result[key]:.4f}")
    for key in ("clusters", "faces", "images", "missed"):
        print(f"{key:<20} {result[key]}")
    for stage, seconds in result["seconds"].items():
        print(f"seconds {stage:<12} {seconds:.2f}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    path = resolve_catalog(args)
    with opened(path) as catalog:
        stats, root, people = catalog.stats(), catalog.root, catalog.persons()[: args.top]
        settings = catalog.settings()
    saved = [str(b) for b in backup.backups(path)]
    if args.json:
        print(
            json.dumps(
                {"catalog": str(path), "library": str(root), **stats, "backups": saved}
                | {"settings": settings.record()}
            )
        )
        return 0
    print(f"Catalog: {path}\nLibrary: {root}")
    threshold = "default" if settings.threshold is None else f"{settings.threshold:g}"
    print(
        f"Settings: detector {settings.detector}, max side {settings.max_side}, "
        f"embedder {settings.embedder}, {settings.algorithm} (threshold {threshold})"
    )
    for key, value in stats.items():
        print(f"{key.capitalize()}: {value}")
    for person in people:
        print(f"  {person.display_name}: {count(person.faces, 'face')} (id {person.id})")
    print(f"Backups: {len(saved)}" + (f" (newest: {saved[0]})" if saved else ""))
    return 0


def cmd_people(args: argparse.Namespace) -> int:
    with opened(resolve_catalog(args)) as catalog:
        people = catalog.persons(include_hidden=True)
    if args.json:
        rows = [{"id": p.id, "name": p.name, "faces": p.faces, "hidden": p.hidden} for p in people]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for p in people:
        faces = f"{p.faces:>6} {noun(p.faces, 'face'):<5}"
        print(f"{p.id:>6}  {faces}  {p.display_name}" + ("  (hidden)" * p.hidden))
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    from faceorganizer.core.library.edits import Editor

    with opened(resolve_catalog(args)) as catalog:
        try:
            catalog.person(args.person_id)
        except KeyError:
            raise UsageError(
                f"no person {args.person_id}: 'faceorganizer people' lists them"
            ) from None
        Editor(catalog).rename(args.person_id, args.name)
        shown = catalog.person(args.person_id).display_name
    print(f"Person {args.person_id} is now {shown!r} (Undo in the app takes it back)")
    return 0


def cmd_forget_missing(args: argparse.Namespace) -> int:
    from faceorganizer.core.library.sync import forget_missing

    with opened(resolve_catalog(args)) as catalog:
        forgotten = forget_missing(catalog)
    if forgotten.backup is None:
        print("No missing photos: nothing to forget.")
        return 0
    photos, faces = count(forgotten.files, "missing photo"), count(forgotten.faces, "face")
    print(f"Forgot {photos} and their {faces}.")
    if forgotten.names:
        print(f"Named people with no other faces, gone with them: {', '.join(forgotten.names)}")
    print(
        f"Backup first: {forgotten.backup}\n  undo with: faceorganizer restore '{forgotten.backup}'"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    source = Path(args.backup)
    if not source.is_file():
        raise UsageError(f"no backup at {source}")
    if args.catalog or args.library:
        target = resolve_catalog(args)
    else:
        target = backup.catalog_of(source)
        if not target.is_file():
            raise UsageError(f"which catalog is {source} a backup of? Add --catalog PATH")
    saved = backup.restore(source, target)
    print(f"Restored {target} from {source}.")
    if saved is not None:
        print(f"The catalog it replaced was saved first: {saved}")
    return 0


def _person_ids(text: str) -> tuple[int, ...]:
    try:
        ids = tuple(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected person ids like 3,17, not {text!r}") from None
    if not ids:
        raise argparse.ArgumentTypeError("no person ids given")
    return ids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceorganizer",
        description="Group the faces in a photo folder by person; export per-person folders. "
        "Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test", action="store_true", help="check that this installation works, then exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, *, library: bool = True) -> argparse.ArgumentParser:
        """A command reading a catalog: --catalog PATH or (``library``) --library FOLDER."""
        command = sub.add_parser(name, help=help_text, description=help_text)
        which = command.add_mutually_exclusive_group()
        which.add_argument("--catalog", metavar="PATH", help="catalog file (default: per user)")
        if library:
            which.add_argument(
                "--library", metavar="FOLDER", help="library folder (default: the last scanned)"
            )
        return command

    def add_grouping(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--algorithm",
            choices=tuple(ALGORITHMS),
            default=None,
            help="how faces are grouped (default: the library's, chinese-whispers for a new one)",
        )
        command.add_argument(
            "--threshold",
            type=float,
            default=None,
            help="face distance below which two faces are the same person (default: the "
            "library's, else measured per algorithm, see README)",
        )

    def add_workers(command: argparse.ArgumentParser) -> None:
        command.add_argument("--workers", type=int, default=0, help="processes (default: cores)")
        command.add_argument(
            "--detector",
            choices=DETECTORS,
            default=None,
            help=f"face detector (default: the library's, {Settings().detector} for a new one)",
        )
        command.add_argument(
            "--max-side",
            type=int,
            default=None,
            help="long side of the detection image (default: the library's, else 1600)",
        )
        command.add_argument(
            "--embedder",
            choices=EMBEDDERS,
            default=None,
            help="face descriptor for a new catalog (default sface; onnx and dlib: dlib's "
            "ResNet); a catalog keeps the one it started with",
        )

    scan_cmd = add("scan", "find, embed and group the faces of a photo folder", library=False)
    scan_cmd.add_argument("folder", metavar="FOLDER")
    scan_cmd.add_argument(
        "--accept-missing",
        action="store_true",
        help="go on when the folder is empty or most photos are gone (they are kept, "
        "marked missing); without it such a scan changes nothing",
    )
    add_grouping(scan_cmd)
    add_workers(scan_cmd)
    scan_cmd.set_defaults(run=cmd_scan)

    cluster_cmd = add("cluster", "group the faces again (keeps your edits)")
    add_grouping(cluster_cmd)
    cluster_cmd.set_defaults(run=cmd_cluster)

    export_cmd = add("export", "write one folder per person")
    export_cmd.add_argument("destination", metavar="DEST")
    export_cmd.add_argument("--mode", choices=[m.value for m in Mode], default="copy")
    export_cmd.add_argument("--include-unknown", action="store_true", help="add Unknown/")
    export_cmd.add_argument("--only-named", action="store_true", help="only named people")
    export_cmd.add_argument(
        "--write-xmp",
        action="store_true",
        help="write <photo>.xmp beside every exported photo with its face names (MWG regions "
        "and keywords, for digiKam, Lightroom, darktable, Immich)",
    )
    export_cmd.add_argument(
        "--together",
        type=_person_ids,
        default=(),
        metavar="ID,ID",
        help="only the photos that show all of these people (ids from 'info'), in one folder",
    )
    export_cmd.set_defaults(run=cmd_export)

    eval_cmd = add(
        "eval", "score the grouping on a labeled folder <identity>/<image>", library=False
    )
    eval_cmd.add_argument("folder", metavar="LABELED_FOLDER")
    eval_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    add_grouping(eval_cmd)
    add_workers(eval_cmd)
    eval_cmd.set_defaults(run=cmd_eval)

    info_cmd = add("info", "summary of a library")
    info_cmd.add_argument("--top", type=int, default=20, help="people to list")
    info_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    info_cmd.set_defaults(run=cmd_info)

    people_cmd = add("people", "list the people: id, name, faces (missing photos' too), hidden")
    people_cmd.add_argument("--json", action="store_true", help="print a JSON list")
    people_cmd.set_defaults(run=cmd_people)

    rename_cmd = add("rename", "name a person (an empty name takes the name away)")
    rename_cmd.add_argument("person_id", metavar="PERSON_ID", type=int)
    rename_cmd.add_argument("name", metavar="NAME")
    rename_cmd.set_defaults(run=cmd_rename)

    forget_cmd = add("forget-missing", "remove missing photos and their faces (backup first)")
    forget_cmd.set_defaults(run=cmd_forget_missing)

    restore_cmd = add("restore", "put a catalog backup back (the current one is saved first)")
    restore_cmd.add_argument("backup", metavar="BACKUP", help="a file 'faceorganizer info' lists")
    restore_cmd.set_defaults(run=cmd_restore)
    return parser


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from faceorganizer.selftest import run_self_test

        return run_self_test()
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a reader that went away shows here, not as a traceback at exit
        return code
    except BrokenPipeError:
        # `faceorganizer people --json | head`: the reader has all it wanted; stop
        # quietly, as Unix tools do, and keep the interpreter's last flush off the pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (UsageError, CatalogError, backup.BackupError) as exc:
        print(f"faceorganizer: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("faceorganizer: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
