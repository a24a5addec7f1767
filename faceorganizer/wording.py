"""Counts in words: "1 face", "2 faces", "1 person", "3 people", never a bracketed "s".

Plain Python, used by the core's undo labels, the CLI and the window alike."""

from __future__ import annotations

# nouns whose plural is not noun + "s"; a phrase takes the plural of its last word
IRREGULAR = {"person": "people"}


def noun(number: int, word: str) -> str:
    """The word as it goes with the number: "face" / "faces", "new person" / "new people"."""
    if number == 1:
        return word
    head, _, last = word.rpartition(" ")
    many = IRREGULAR.get(last, last + "s")
    return f"{head} {many}" if head else many


def count(number: int, word: str) -> str:
    """The number with thousands separators and the word in the right form."""
    return f"{number:,} {noun(number, word)}"


def verb(number: int, one: str, many: str) -> str:
    """The verb that agrees with the number: verb(1, "has", "have") is "has"."""
    return one if number == 1 else many


def count_is(number: int, word: str) -> str:
    """The count with its verb: "1 photo is", "3 photos are"."""
    return f"{count(number, word)} {verb(number, 'is', 'are')}"


def missing_photos(number: int) -> str:
    """What the window's banner says about photos the last scan did not find."""
    return f"{count_is(number, 'photo')} missing — is the drive connected?"
