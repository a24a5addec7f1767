"""Command line: scan | cluster | export | eval | info. Stable: scripts depend on it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from tqdm import tqdm

from faceorganizer import __version__
from faceorganizer.config import ALGORITHMS, APP_NAME, DETECTORS, EMBEDDERS, Settings
from faceorganizer.core.library.export import ExportError, Mode, Options, export
from faceorganizer.core.store.catalog import Catalog, CatalogError, default_catalog_path

if TYPE_CHECKING:
    from faceorganizer.core.library.names import MetadataReport
    from faceorganizer.core.library.scan import Progress

# The models and the clustering (dlib, onnxruntime, scipy) are imported by the commands
# that use them, so that opening the app does not wait for them.
COMMANDS = ("scan", "cluster", "export", "eval", "info")


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


def open_existing(path: Path) -> Catalog:
    if not path.is_file():
        raise UsageError(f"no catalog at {path}: run 'faceorganizer scan FOLDER' first")
    return Catalog(path)


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
    catalog = Catalog(catalog_path, root=folder)
    summary = ScanSummary()
    try:
        settings = _with_flags(catalog.settings(), args)
        _progress_bar(scan(catalog, folder, settings, summary=summary))
        remember_catalog(catalog_path)
        stats = catalog.stats()
        errors = catalog.errors()
    finally:
        catalog.close()
    sync = summary.sync
    print(f"Catalog: {catalog_path}")
    print(
        f"Files: {stats['files']} ({sync.new} new, {sync.changed} changed, {sync.moved} moved, "
        f"{sync.removed} removed, {summary.processed} processed)"
    )
    print(f"Faces: {stats['faces']}  People: {stats['people']}  Unassigned: {stats['unassigned']}")
    _print_names(summary.metadata)
    problems = errors + summary.sync.unreadable
    if problems:
        print(f"Skipped {len(problems)} file(s):")
        for path, reason in problems:
            print(f"  {path}: {reason}")
    return 0


def _print_names(report: MetadataReport) -> None:
    """What the photos' own metadata (XMP face regions) contributed to this scan."""
    if report.regions:
        print(
            f"Names from photo metadata: {report.matched} of {report.regions} named region(s) "
            f"matched a face, {report.named} face(s) named"
        )
    if report.unmatched:
        print(f"{len(report.unmatched)} named region(s) with no detected face:")
        for path, name in report.unmatched:
            print(f"  {path}: {name}")
    if report.warnings:
        print(f"{len(report.warnings)} metadata warning(s):")
        for path, problem in report.warnings:
            print(f"  {path}: {problem}")


def cmd_cluster(args: argparse.Namespace) -> int:
    from faceorganizer.core.library.people import recluster

    catalog = open_existing(resolve_catalog(args))
    try:
        result = recluster(catalog, args.algorithm, args.threshold, undoable=True)
    finally:
        catalog.close()
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
        f"Exported {report.people} folder(s): {report.written} file(s) written, "
        f"{report.already_there} already there."
        + (f" {report.sidecars} XMP sidecar(s) written." if args.write_xmp else "")
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
    catalog = open_existing(path)
    try:
        print(f"Catalog: {path}\nLibrary: {catalog.root}")
        settings = catalog.settings()
        threshold = "default" if settings.threshold is None else f"{settings.threshold:g}"
        print(
            f"Settings: detector {settings.detector}, max side {settings.max_side}, "
            f"embedder {settings.embedder}, {settings.algorithm} (threshold {threshold})"
        )
        for key, value in catalog.stats().items():
            print(f"{key.capitalize()}: {value}")
        for person in catalog.persons()[: args.top]:
            print(f"  {person.display_name}: {person.faces} face(s) (id {person.id})")
    finally:
        catalog.close()
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

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--catalog", metavar="PATH", help="catalog file (default: per user)")
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
            help="face detector (default: the library's, cascade for a new one)",
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

    scan_cmd = add("scan", "find, embed and group the faces of a photo folder")
    scan_cmd.add_argument("folder", metavar="FOLDER")
    add_grouping(scan_cmd)
    add_workers(scan_cmd)
    scan_cmd.set_defaults(run=cmd_scan)

    cluster_cmd = add("cluster", "group the faces again (keeps your edits)")
    cluster_cmd.add_argument("--library", metavar="FOLDER", help="library folder")
    add_grouping(cluster_cmd)
    cluster_cmd.set_defaults(run=cmd_cluster)

    export_cmd = add("export", "write one folder per person")
    export_cmd.add_argument("destination", metavar="DEST")
    export_cmd.add_argument("--library", metavar="FOLDER", help="library folder")
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

    eval_cmd = add("eval", "score the grouping on a labeled folder <identity>/<image>")
    eval_cmd.add_argument("folder", metavar="LABELED_FOLDER")
    eval_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    add_grouping(eval_cmd)
    add_workers(eval_cmd)
    eval_cmd.set_defaults(run=cmd_eval)

    info_cmd = add("info", "summary of a library")
    info_cmd.add_argument("--library", metavar="FOLDER", help="library folder")
    info_cmd.add_argument("--top", type=int, default=20, help="people to list")
    info_cmd.set_defaults(run=cmd_info)
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
        return int(args.run(args))
    except (UsageError, CatalogError) as exc:
        print(f"faceorganizer: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("faceorganizer: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
