"""IAM policy variables (``${aws:username}``) in Resource and Condition values.

Follows the IAM User Guide, "IAM policy elements: Variables and tags":

* variables are substituted only when the policy ``Version`` is
  ``"2012-10-17"``; under ``"2008-10-17"`` (or no Version) ``${...}`` is literal;
* ``${key, 'default'}`` supplies a default (``''`` inside it is one quote);
* ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters;
* a key that is absent (or multivalued) with no default cannot be resolved,
  and the value that uses it does not match ("the entire statement might be
  invalid").

Substituted text is always matched literally: a ``*`` in a user name is not
a wildcard.
"""
from __future__ import annotations

import re
from typing import Protocol

__all__ = [
    "LITERAL", "ESCAPED", "VARIABLE", "Template", "Segments",
    "parse_template", "literal_template", "has_variables", "static_segments",
    "resolve", "joined",
]

LITERAL, ESCAPED, VARIABLE = 0, 1, 2
Part = tuple[int, str, "str | None", str]   # kind, text or lower-case key, default, original key
Template = tuple[Part, ...]
Segments = tuple[tuple[str, bool], ...]      # (text, match-literally)

_VAR = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_KEY = re.compile(r"^[^\s,']+$")


class Lookup(Protocol):
    def get(self, key: str) -> tuple[str, ...] | None: ...


def literal_template(text: str) -> Template:
    """A template with no variables (policy Version other than 2012-10-17)."""
    return ((LITERAL, text, None, ""),)


def _default(raw: str) -> str | None:
    raw = raw.strip()
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
        return None
    inner = raw[1:-1]
    if "'" in inner.replace("''", ""):
        return None
    return inner.replace("''", "'")


def _variable(body: str) -> Part:
    content = body.strip()
    if content in _ESCAPES:
        return (ESCAPED, _ESCAPES[content], None, "")
    key, sep, rest = content.partition(",")
    key = key.strip()
    default = _default(rest) if sep else None
    if not _KEY.match(key) or (sep and default is None):
        return (VARIABLE, "", None, body)       # malformed: never resolves
    return (VARIABLE, key.lower(), default, key)


def parse_template(text: str) -> Template:
    """Split ``text`` into literal, escaped and variable parts."""
    if "${" not in text:
        return ((LITERAL, text, None, ""),)
    parts: list[Part] = []
    position = 0
    for found in _VAR.finditer(text):
        if found.start() > position:
            parts.append((LITERAL, text[position:found.start()], None, ""))
        parts.append(_variable(found.group(1)))
        position = found.end()
    if position < len(text) or not parts:
        parts.append((LITERAL, text[position:], None, ""))
    return tuple(parts)


def has_variables(template: Template) -> bool:
    """True when resolution depends on the request (a VARIABLE part)."""
    return any(part[0] == VARIABLE for part in template)


def static_segments(template: Template) -> Segments:
    """Segments of a template without variables."""
    return tuple((part[1], part[0] == ESCAPED) for part in template)


def resolve(template: Template, context: Lookup, missing: list[str] | None = None) -> Segments | None:
    """Substitute variables from ``context``; None when one cannot be resolved."""
    out: list[tuple[str, bool]] = []
    for kind, text, default, original in template:
        if kind != VARIABLE:
            out.append((text, kind == ESCAPED))
            continue
        values = context.get(text) if text else None
        if values is not None and len(values) == 1:
            out.append((values[0], True))
        elif default is not None:
            out.append((default, True))
        else:
            if missing is not None and original:
                missing.append(original)
            return None
    return tuple(out)


def joined(segments: Segments) -> str:
    """The plain text of resolved segments."""
    return "".join(text for text, _ in segments)
