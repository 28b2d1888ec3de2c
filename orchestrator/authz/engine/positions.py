"""Line/column positions of the statements of a policy's JSON text.

Used for SimulateCustomPolicy's ``MatchedStatements[].StartPosition`` /
``EndPosition`` (IAM API Reference, "Position": 1-based line and column).
StartPosition is the statement's opening brace; EndPosition is the column just
after its closing brace.
"""
from __future__ import annotations

import json

__all__ = ["statement_positions", "Position"]

Position = tuple[int, int]
_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _array_spans(text: str, i: int) -> list[tuple[int, int]]:
    spans = []
    i = _skip(text, i + 1)
    while i < len(text) and text[i] != "]":
        _, end = _DECODER.raw_decode(text, i)
        spans.append((i, end))
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return spans


def _spans(text: str) -> list[tuple[int, int]]:
    i = _skip(text, 0)
    if text[i:i + 1] != "{":
        return []
    i = _skip(text, i + 1)
    while i < len(text) and text[i] == '"':
        key, end = _DECODER.raw_decode(text, i)
        i = _skip(text, _skip(text, end) + 1)          # past ':'
        if key == "Statement":
            return _array_spans(text, i) if text[i] == "[" else [(i, _DECODER.raw_decode(text, i)[1])]
        _, end = _DECODER.raw_decode(text, i)
        i = _skip(text, end)
        i = _skip(text, i + 1) if text[i:i + 1] == "," else i
    return []


def statement_positions(text: str) -> tuple[tuple[Position, Position], ...]:
    """(start, end) positions of each statement, in order; empty if unparseable."""
    try:
        spans = _spans(text)
    except (ValueError, IndexError):
        return ()
    return tuple((_line_col(text, start), _line_col(text, end)) for start, end in spans)
