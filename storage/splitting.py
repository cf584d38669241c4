"""Split Telegram HTML into messages that fit Telegram's limits, without breaking the markup.

Telegram refuses a message longer than 4096 characters and a caption longer than 1024, counted
after the markup is parsed, in UTF-16 code units. We count the *raw* HTML in UTF-16 units, which
is never less than what Telegram counts, so a part that passes here passes there.

Splits fall on line boundaries (the newline between two parts is dropped). A single line longer
than the limit is cut between characters, never inside a tag or an entity such as ``&amp;``.
Tags open at a cut are closed at the end of one part and reopened at the start of the next, so
every part is well-formed on its own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

MAX_TEXT = 4096
MAX_CAPTION = 1024

_TOKEN = re.compile(
    r"(?P<tag><[^<>]*>)|(?P<entity>&#?\w+;)|(?P<newline>\n)|(?P<text>[^<&\n]+)|(?P<other>.)",
    re.DOTALL,
)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][\w-]*)")
_ANY_TAG = re.compile(r"<[^<>]*>")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: astral characters (most emoji) count twice."""
    if text.isascii():
        return len(text)
    # UTF-16 takes two bytes per unit; "surrogatepass" counts a lone surrogate as one unit.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_text(markup: str) -> str:
    """What a reader sees of ``markup``: tags dropped, entities decoded."""
    return html.unescape(_ANY_TAG.sub("", markup))


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` (Telegram HTML) into parts of at most ``limit`` UTF-16 units.

    Parts that would show nothing (blank lines only) are dropped, so ``""`` gives ``[]``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if utf16_len(text) <= limit:
        return [text] if visible_text(text).strip() else []
    splitter = _Splitter(limit)
    for line in _lines(text):
        splitter.add_line(line)
    return splitter.finish()


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    size: int
    opens: str | None = None  # tag name this token opens
    closes: str | None = None  # tag name this token closes
    divisible: bool = False  # plain text may be cut between characters


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        value = match.group()
        if match.lastgroup == "tag":
            name = _TAG_NAME.match(value)
            if name is None or value.endswith("/>"):
                tokens.append(_Token(value, utf16_len(value)))
            elif name.group(1):
                tokens.append(_Token(value, utf16_len(value), closes=name.group(2).lower()))
            else:
                tokens.append(_Token(value, utf16_len(value), opens=name.group(2).lower()))
        else:
            divisible = match.lastgroup in ("text", "other")
            tokens.append(_Token(value, utf16_len(value), divisible=divisible))
    return tokens


def _lines(text: str) -> list[list[_Token]]:
    lines: list[list[_Token]] = [[]]
    for token in _tokenize(text):
        if token.text == "\n":
            lines.append([])
        else:
            lines[-1].append(token)
    return lines


@dataclass(slots=True)
class _Splitter:
    """Greedy packing of lines into parts, tracking which tags are open where."""

    limit: int
    parts: list[str] = field(default_factory=list)
    open_tags: list[tuple[str, str]] = field(default_factory=list)  # (name, opening tag)
    body: list[str] = field(default_factory=list)
    size: int = 0
    lines: int = 0  # lines (or pieces of one) in the part being built
    has_content: bool = False  # ... and whether any of them shows something

    def add_line(self, line: list[_Token]) -> None:
        if not line and not self.lines:
            return  # blank lines at the top of a part show nothing
        separator = 1 if self.lines else 0
        stack_after = _apply(self.open_tags, line)
        line_size = sum(token.size for token in line)
        if self.size + separator + line_size + _closing_size(stack_after) <= self.limit:
            self._append_line(line, separator)
            return
        if self.lines:
            self._flush()
            if self.size + line_size + _closing_size(stack_after) <= self.limit:
                self._append_line(line, 0)
                return
        self._add_long_line(line)

    def finish(self) -> list[str]:
        self._flush()
        return self.parts

    def _append_line(self, line: list[_Token], separator: int) -> None:
        if separator:
            self._push("\n", 1)
        self.lines += 1
        for token in line:
            self._push_token(token)

    def _add_long_line(self, line: list[_Token]) -> None:
        """A line longer than a whole part (we are at a fresh part): cut it between tokens."""
        self.lines += 1
        for token in line:
            if token.divisible:
                self._add_divisible(token.text)
                continue
            stack_after = _apply(self.open_tags, [token])
            if self.size + token.size + _closing_size(stack_after) > self.limit:
                self._flush()
                if self.size + token.size + _closing_size(stack_after) > self.limit:
                    raise ValueError("markup nests too deep to fit the limit")
            self._push_token(token)

    def _add_divisible(self, text: str) -> None:
        while text:
            room = self.limit - self.size - _closing_size(self.open_tags)
            piece = _prefix_fitting(text, room)
            if not piece:
                if not self.has_content:
                    raise ValueError("markup nests too deep to fit the limit")
                self._flush()
                continue
            self._push(piece, utf16_len(piece))
            self.has_content = True
            self.lines = max(self.lines, 1)
            text = text[len(piece) :]

    def _push_token(self, token: _Token) -> None:
        self._push(token.text, token.size)
        self.lines = max(self.lines, 1)
        self.open_tags[:] = _apply(self.open_tags, [token])
        if token.divisible or (token.opens is None and token.closes is None):
            self.has_content = True

    def _push(self, text: str, size: int) -> None:
        self.body.append(text)
        self.size += size

    def _flush(self) -> None:
        closing = "".join(f"</{name}>" for name, _ in reversed(self.open_tags))
        part = "".join(self.body) + closing
        if visible_text(part).strip():
            self.parts.append(part)
        reopening = "".join(tag for _, tag in self.open_tags)
        self.body = [reopening] if reopening else []
        self.size = utf16_len(reopening)
        self.lines = 0
        self.has_content = False


def _apply(stack: list[tuple[str, str]], tokens: list[_Token]) -> list[tuple[str, str]]:
    """The open-tag stack after ``tokens``; a stray closing tag closes up to its match."""
    result = list(stack)
    for token in tokens:
        if token.opens is not None:
            result.append((token.opens, token.text))
        elif token.closes is not None:
            names = [name for name, _ in result]
            if token.closes in names:
                del result[len(names) - 1 - names[::-1].index(token.closes) :]
    return result


def _closing_size(stack: list[tuple[str, str]]) -> int:
    return sum(len(name) + 3 for name, _ in stack)


def _prefix_fitting(text: str, room: int) -> str:
    """The longest prefix of ``text`` within ``room`` UTF-16 units."""
    used = 0
    for end, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            return text[:end]
    return text
