"""Strings and regular expressions in z3's string theory, exactly as the concrete engine matches.

z3 reads ``\\u{HEX}`` escapes inside a string literal and writes them in a model's strings, so text
goes in escaped (:func:`sval`) and comes out decoded (:func:`decoded`). Globs follow
``engine/matching.py`` (``*`` any run of characters, ``?`` one, the whole string, case-sensitive);
ARN globs follow ``engine/operators.py`` (a wildcard stays inside its colon-delimited field for the
first five colons).
"""
from __future__ import annotations

import re

import z3

from orchestrator.authz.engine.variables import Segments

__all__ = ["sval", "decoded", "any_string", "one_char", "literal", "glob_regex", "arn_regex", "arn_shaped",
           "ignore_case_regex"]

_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")


def sval(text: str) -> z3.SeqRef:
    """A z3 string literal of ``text`` (every character outside printable ASCII, and ``\\``, escaped)."""
    out = "".join(ch if " " <= ch <= "~" and ch != "\\" else "\\u{%x}" % ord(ch) for ch in text)
    return z3.StringVal(out)


def decoded(value: z3.ExprRef) -> str:
    """The Python text of a model's string value."""
    return _ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), value.as_string())


def _resort() -> z3.ReSortRef:
    return z3.ReSort(z3.StringSort())


def any_string() -> z3.ReRef:
    return z3.Star(z3.AllChar(_resort()))


def one_char() -> z3.ReRef:
    return z3.AllChar(_resort())


def literal(text: str) -> z3.ReRef:
    return z3.Re(sval(text))


def _concat(parts: list[z3.ReRef]) -> z3.ReRef:
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def _union(parts: list[z3.ReRef]) -> z3.ReRef:
    if not parts:
        return z3.Empty(_resort())
    return parts[0] if len(parts) == 1 else z3.Union(*parts)


def glob_regex(patterns: tuple[Segments, ...]) -> z3.ReRef:
    """Any of these globs (``compile_glob``)."""
    alternatives = []
    for segments in patterns:
        parts: list[z3.ReRef] = []
        for text, is_literal in segments:
            if is_literal:
                parts.append(literal(text))
                continue
            for ch in text:
                parts.append(any_string() if ch == "*" else one_char() if ch == "?" else literal(ch))
        alternatives.append(_concat(parts))
    return _union(alternatives)


def _not_colon() -> z3.ReRef:
    return z3.Intersect(one_char(), z3.Complement(z3.Re(":")))


def arn_regex(patterns: tuple[Segments, ...]) -> z3.ReRef:
    """Any of these ARN globs (``operators._arn_regex``)."""
    alternatives = []
    for segments in patterns:
        parts: list[z3.ReRef] = []
        colons = 0
        for text, is_literal in segments:
            for ch in text:
                if ch == ":":
                    colons += 1
                if is_literal or ch not in "*?":
                    parts.append(literal(ch))
                    continue
                unit = _not_colon() if colons < 5 else one_char()
                parts.append(z3.Star(unit) if ch == "*" else unit)
        alternatives.append(_concat(parts))
    return _union(alternatives)


def arn_shaped() -> z3.ReRef:
    """Text with at least five colons (what the ARN operators read as an ARN)."""
    field = z3.Concat(z3.Star(_not_colon()), z3.Re(":"))
    return z3.Concat(field, field, field, field, field, any_string())


def _variants(ch: str) -> set[str]:
    found = {ch, ch.upper(), ch.lower()}
    if ch == "k":
        found.add("\u212a")   # KELVIN SIGN lowers to "k"
    return {c for c in found if len(c) == 1 and c.lower() == ch}


def ignore_case_regex(wanted: list[str]) -> z3.ReRef:
    """Texts whose ``lower()`` is one of ``wanted`` (already lower-case): each character in any case
    that lowers to it (ASCII letters, and the Kelvin sign; docs/whoelse.md)."""
    alternatives = []
    for text in wanted:
        parts = [_union([literal(c) for c in sorted(_variants(ch))]) for ch in text]
        alternatives.append(_concat(parts))
    return _union(alternatives)
