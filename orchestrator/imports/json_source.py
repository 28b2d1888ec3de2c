"""JSON templates read as exactly as YAML ones: duplicate keys and integers too long to convert
refused at their line and column, and the position of every key and value when a check needs one.

JSON is YAML, but PyYAML reads YAML 1.1, where `1e5` is text and libyaml refuses the surrogate
escapes (`"\\ud83d\\ude00"`) that `json.dumps` writes for characters beyond the BMP: so a JSON
template is parsed by Python's json module (C speed, JSON's own meaning), with hooks that refuse
what validate's reader refuses (orchestrator/loader/builder.py: duplicate keys, integers of more
than MAX_INT_CHARS characters). Only when one of those, or a later check of the template's shape,
needs a position is the text walked again here, key by key, to find it.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from typing import Any

from orchestrator.loader.builder import MAX_INT_CHARS, Mark, Positions, SourceError, shorten
from orchestrator.loader.diagnostics import Diagnostic, PathElement
from orchestrator.loader.source import LineIndex

Path = tuple[PathElement, ...]
_WHITESPACE = json.decoder.WHITESPACE


class Relocate(Exception):
    """Raised by the fast parse's hooks: the walk below finds where, and says what. Pure control
    flow (the walk raises the located error), so not an OrchestrateError."""


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: a mapping, or Relocate when a key appears twice (json keeps the last)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise Relocate
    return found


def bounded_int(text: str) -> int:
    """json's parse_int: Python refuses to convert integers of more than 4,300 digits (a ValueError
    from deep inside json); no template value is anywhere near MAX_INT_CHARS."""
    if len(text) > MAX_INT_CHARS:
        raise Relocate
    return int(text)


def parse(text: str) -> Any:
    """The JSON value of ``text``; json.JSONDecodeError, RecursionError or Relocate."""
    return json.loads(text, object_pairs_hook=unique_pairs, parse_int=bounded_int)


class JsonWalker:
    """Walks a JSON text once, recording where each key and value starts (validate's Positions),
    and raising SourceError at the first duplicate key or overlong integer."""

    def __init__(self, file: str, text: str) -> None:
        self.file, self.text = file, text
        self.lines = LineIndex(text)
        self.positions = Positions()
        self.number_at: tuple[int, Path] = (0, ())
        self.scan_once = json.scanner.make_scanner(json.JSONDecoder(parse_int=self._integer))

    def walk(self) -> Positions:
        self.value(0, ())
        return self.positions

    def fail(self, index: int, message: str, path: Path) -> SourceError:
        mark = self.lines.mark(index)
        return SourceError(Diagnostic(self.file, mark.line, mark.col, message, path))

    def mark(self, index: int) -> Mark:
        return self.lines.mark(index)

    def value(self, index: int, path: Path) -> int:
        """Records the value at ``index`` (after whitespace); returns where it ends."""
        index = _WHITESPACE.match(self.text, index).end()  # type: ignore[union-attr]
        self.positions.values.setdefault(path, self.mark(index))
        opener = self.text[index:index + 1]
        if opener == "{":
            return self.members(index + 1, path)
        if opener == "[":
            return self.items(index + 1, path)
        self.number_at = (index, path)
        return int(self.scan_once(self.text, index)[1])

    def members(self, index: int, path: Path) -> int:
        seen: set[str] = set()
        index = self._skip(index)
        while self.text[index] != "}":
            key, after = json.decoder.scanstring(self.text, index + 1)
            if key in seen:
                raise self.fail(index, f"duplicate key {shorten(key)!r} (each key may appear once in a mapping)", path + (key,))
            seen.add(key)
            self.positions.keys[path + (key,)] = self.mark(index)
            index = self.value(self._skip(after) + 1, path + (key,))  # + 1: the colon
            index = self._skip(index)
            index = self._skip(index + 1) if self.text[index] == "," else index
        return index + 1

    def items(self, index: int, path: Path) -> int:
        number = 0
        index = self._skip(index)
        while self.text[index] != "]":
            index = self._skip(self.value(index, path + (number,)))
            index = self._skip(index + 1) if self.text[index] == "," else index
            number += 1
        return index + 1

    def _skip(self, index: int) -> int:
        return _WHITESPACE.match(self.text, index).end()  # type: ignore[union-attr]

    def _integer(self, text: str) -> int:
        if len(text) > MAX_INT_CHARS:
            raise self.fail(self.number_at[0], f"an integer of more than {MAX_INT_CHARS} characters is too large for any field",
                            self.number_at[1])
        return int(text)


def json_positions(file: str, text: str) -> Positions:
    """Where each key and value of a JSON text starts; SourceError at a duplicate key or an overlong integer."""
    return JsonWalker(file, text).walk()
