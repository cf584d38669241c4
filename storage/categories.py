"""The issue-category catalogue: a TOML data file read into frozen, validated records.

Pure: no database, no Telegram, no settings. `load_catalog()` reads the packaged default file;
`load_catalog(path)` reads a deployment's own copy.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

CategoryClass = Literal["safe", "orderly", "clean", "service", "dispute"]
Party = Literal["property", "committee", "owners_committee", "urban_management", "police", "town"]
Tier = Literal["urgent", "normal", "complex"]

CATEGORY_CLASSES: tuple[str, ...] = get_args(CategoryClass)
PARTIES: tuple[str, ...] = get_args(Party)
TIERS: tuple[str, ...] = get_args(Tier)

DEFAULT_CATALOG_PATH = Path(__file__).with_name("data") / "categories.toml"
FALLBACK_ID = "other"

_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_STRING_FIELDS = ("id", "zh", "en")
_BOOL_FIELDS = ("sensitive", "urgent")
_LIST_FIELDS = ("keywords_zh", "keywords_en")
_KNOWN_FIELDS = frozenset(
    (*_STRING_FIELDS, *_BOOL_FIELDS, *_LIST_FIELDS, "class", "party", "tier"),
)


class CatalogError(ValueError):
    """The catalogue file is missing, not TOML, or has an invalid entry."""


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of issue a resident or worker can report."""

    id: str
    zh: str
    en: str
    category_class: CategoryClass
    party: Party
    tier: Tier
    sensitive: bool
    urgent: bool
    keywords_zh: tuple[str, ...]
    keywords_en: tuple[str, ...]

    def name(self, locale: str = "zh") -> str:
        """Return the display name in the given locale (zh unless it starts with "en")."""
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True, slots=True)
class _Matcher:
    category: Category
    keyword: str
    pattern: re.Pattern[str] | None  # None: plain substring (Chinese)


class CategoryCatalog:
    """The ordered, validated set of categories, with keyword classification of free text."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._categories = tuple(categories)
        self._by_id = {category.id: category for category in self._categories}
        if FALLBACK_ID not in self._by_id:
            raise CatalogError(f"the catalogue has no {FALLBACK_ID!r} fallback category")
        self._matchers = tuple(_build_matchers(self._categories))
        # Every keyword's first character → the matchers (by position) it may start: a text
        # is checked only against keywords whose first character it contains.
        self._by_first: dict[str, list[int]] = {}
        for order, matcher in enumerate(self._matchers):
            self._by_first.setdefault(matcher.keyword[:1], []).append(order)

    def get(self, category_id: str) -> Category:
        """Return the category with this id; KeyError if there is none."""
        return self._by_id[category_id]

    def all(self) -> tuple[Category, ...]:
        """Return every category in file order."""
        return self._categories

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def __len__(self) -> int:
        return len(self._categories)

    def classify(self, text: str) -> Category:
        """Guess the category of a report: the longest (most specific) keyword found wins.

        Ties go to the category with more matching keywords, then to an urgent one, then to
        the one earlier in the file. No match gives the `other` fallback.
        """
        lowered = text.lower()
        scores: dict[str, tuple[int, int, int, int]] = {}
        candidates = self._by_first.get("", []).copy()
        for char in set(lowered):
            candidates.extend(self._by_first.get(char, ()))
        for order in sorted(candidates):  # file order, as if every keyword were tried
            matcher = self._matchers[order]
            if not _matches(matcher, lowered):
                continue
            category = matcher.category
            longest, count, urgent, first = scores.get(category.id, (0, 0, 0, -order))
            scores[category.id] = (
                max(longest, len(matcher.keyword)),
                count + 1,
                int(category.urgent),
                first,
            )
        if not scores:
            return self._by_id[FALLBACK_ID]
        best = max(scores, key=lambda category_id: scores[category_id])
        return self._by_id[best]


def _matches(matcher: _Matcher, lowered: str) -> bool:
    if matcher.keyword not in lowered:
        return False
    return matcher.pattern is None or matcher.pattern.search(lowered) is not None


def _build_matchers(categories: Iterable[Category]) -> Iterable[_Matcher]:
    for category in categories:
        for keyword in category.keywords_zh:
            yield _Matcher(category, keyword.lower(), None)
        for keyword in category.keywords_en:
            # Word boundaries so "pet" does not fire inside "competition"; plurals allowed.
            body = re.escape(keyword.lower())
            pattern = re.compile(rf"(?<![a-z]){body}(?:s|es)?(?![a-z])")
            yield _Matcher(category, keyword.lower(), pattern)


def load_catalog(path: Path | str | None = None) -> CategoryCatalog:
    """Read and validate a catalogue file (the packaged default when no path is given)."""
    if path is None:
        return _default_catalog()
    return _read_catalog(Path(path))


@cache
def _default_catalog() -> CategoryCatalog:
    return _read_catalog(DEFAULT_CATALOG_PATH)


def _read_catalog(path: Path) -> CategoryCatalog:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as error:
        raise CatalogError(f"{path}: no such catalogue file") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: not valid TOML: {error}") from error
    return parse_catalog(data, source=str(path))


def parse_catalog(data: Mapping[str, Any], *, source: str = "<catalogue>") -> CategoryCatalog:
    """Validate already-loaded TOML data; errors name the source and the offending entry."""
    entries = data.get("category")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{source}: expected one or more [[category]] tables")
    categories: list[Category] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = _describe_entry(source, index, entry)
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be a table")
        category = _parse_entry(entry, where)
        if category.id in seen:
            raise CatalogError(f"{where}: duplicate id {category.id!r}")
        seen.add(category.id)
        categories.append(category)
    try:
        return CategoryCatalog(categories)
    except CatalogError as error:
        raise CatalogError(f"{source}: {error}") from error


def _describe_entry(source: str, index: int, entry: object) -> str:
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    label = f" (id {entry_id!r})" if isinstance(entry_id, str) else ""
    return f"{source}: category #{index}{label}"


def _parse_entry(entry: dict[str, Any], where: str) -> Category:
    unknown = sorted(set(entry) - _KNOWN_FIELDS)
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for field in _STRING_FIELDS:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: {field!r} must be a non-empty string")
    if not _ID_RE.fullmatch(entry["id"]):
        raise CatalogError(f"{where}: id {entry['id']!r} must be ascii snake_case")
    for field in _BOOL_FIELDS:
        if not isinstance(entry.get(field), bool):
            raise CatalogError(f"{where}: {field!r} must be true or false")
    keywords = {field: _keyword_list(entry.get(field, []), field, where) for field in _LIST_FIELDS}
    return Category(
        id=entry["id"],
        zh=entry["zh"],
        en=entry["en"],
        category_class=cast(CategoryClass, _choice(entry, "class", CATEGORY_CLASSES, where)),
        party=cast(Party, _choice(entry, "party", PARTIES, where)),
        tier=cast(Tier, _choice(entry, "tier", TIERS, where)),
        sensitive=entry["sensitive"],
        urgent=entry["urgent"],
        keywords_zh=keywords["keywords_zh"],
        keywords_en=keywords["keywords_en"],
    )


def _choice(entry: dict[str, Any], field: str, allowed: tuple[str, ...], where: str) -> str:
    value = entry.get(field)
    if value not in allowed:
        raise CatalogError(
            f"{where}: {field!r} is {value!r}, expected one of {', '.join(allowed)}"
        )
    return cast(str, value)


def _keyword_list(value: object, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CatalogError(f"{where}: {field!r} must be a list of non-empty strings")
    return tuple(value)
