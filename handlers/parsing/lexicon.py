"""Load the parser's word lists from lexicon.toml and turn them into regex alternations."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

LEXICON_PATH = Path(__file__).with_name("lexicon.toml")


class Lexicon:
    """Typed access to lexicon.toml: lists of words, word → value tables, labels."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self._words: dict[tuple[str, ...], tuple[str, ...]] = {}

    def section(self, *path: str) -> Mapping[str, Any]:
        """Return the table at this dotted path ("units", or "filler", "by_type")."""
        node: Any = self._data
        for key in path:
            node = node[key]
        if not isinstance(node, Mapping):
            raise TypeError(f"lexicon: {'.'.join(path)} is not a table")
        return node

    def words(self, *path: str) -> tuple[str, ...]:
        """Return the word list at this dotted path (read once: the parser asks for some lists
        for every message)."""
        words = self._words.get(path)
        if words is None:
            *parent, key = path
            value = self.section(*parent)[key] if parent else self._data[key]
            if not isinstance(value, list):
                raise TypeError(f"lexicon: {'.'.join(path)} is not a list")
            words = self._words[path] = tuple(str(item) for item in value)
        return words

    def table(self, *path: str) -> dict[str, Any]:
        """Return the word → value table at this dotted path."""
        return dict(self.section(*path))


@cache
def lexicon() -> Lexicon:
    """Return the packaged lexicon, read once."""
    with LEXICON_PATH.open("rb") as handle:
        return Lexicon(tomllib.load(handle))


def alternation(words: Iterable[str]) -> str:
    """Return a non-capturing regex alternation of the words, longest first."""
    ordered = sorted(set(words), key=lambda word: (-len(word), word))
    if not ordered:
        return "(?!)"
    return "(?:" + "|".join(re.escape(word) for word in ordered) + ")"


def word_alternation(words: Iterable[str]) -> str:
    """Like `alternation`, but latin words must not run into other letters."""
    return rf"(?<![a-z]){alternation(words)}(?![a-z])"
