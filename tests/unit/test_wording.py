"""Counts read like English: no "1 people", no "face(s)" anywhere in the app."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import faceorganizer
from faceorganizer.core.library.scan import ScanSummary
from faceorganizer.wording import count, count_is, noun, verb


def test_counts_take_the_right_form() -> None:
    assert count(1, "face") == "1 face"
    assert count(0, "face") == "0 faces"
    assert count(12_345, "photo") == "12,345 photos"
    assert count(1, "person") == "1 person"
    assert count(2, "person") == "2 people"
    assert count(3, "new person") == "3 new people"
    assert noun(2, "new or changed photo") == "new or changed photos"
    assert count_is(1, "photo") == "1 photo is" and count_is(0, "photo") == "0 photos are"
    assert verb(1, "goes", "go") == "goes" and verb(2, "goes", "go") == "go"


def test_no_message_in_the_package_says_s_in_brackets() -> None:
    """Every user-facing string: an "(s)" would mean a count without the helper."""
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    offenders = []
    for path in Path(faceorganizer.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in strings and "(s)" in token.string:
                offenders.append(f"{path.name}:{token.start[0]}")
    assert offenders == []


PLURAL_AFTER_NUMBER = re.compile(r"\s+(faces|people|photos|groups|files|questions)\b")


def test_no_number_is_put_before_a_plural_without_the_helper() -> None:
    """An f-string "{n} faces" says "1 faces" when n is 1 (the undo label of names read
    from photos did); count() gives the word its form."""
    offenders = []
    for path in Path(faceorganizer.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for value, after in zip(node.values, node.values[1:], strict=False):
                written = isinstance(value, ast.FormattedValue) and not (
                    isinstance(value.value, ast.Call)
                    and getattr(value.value.func, "id", "") == "count"
                )
                text = after.value if isinstance(after, ast.Constant) else ""
                if written and isinstance(text, str) and PLURAL_AFTER_NUMBER.match(text):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_a_scan_does_not_count_skipped_photos_as_processed() -> None:
    """6 new photos, 3 of which could not be read: "3 read, 3 skipped" (it said "6 new
    or changed photo(s) processed")."""
    summary = ScanSummary(processed=6, skipped=[(f"bad{i}.jpg", "not an image") for i in range(3)])
    assert summary.outcome() == "3 new or changed photos read, 3 skipped"
    assert ScanSummary(processed=1).outcome() == "1 new or changed photo read"
    assert ScanSummary().outcome() == "no new or changed photos"
