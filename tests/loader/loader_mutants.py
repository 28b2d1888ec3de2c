"""Mutants of the shipped scenarios, for the loader's fuzz tests.

`mutate` applies one random edit (byte, character or line level) to a scenario's text: deletions,
duplications, insertions of YAML-significant and control characters, tag injections, huge
integers, anchors, aliases and merge keys, invalid dates, truncation. The randomness comes from
the `rng` argument, so a seeded `random.Random` gives a reproducible series and Hypothesis's
`st.randoms()` gives shrinkable ones.

`located_mutant` makes a mutant whose fault position is known in advance, so that a test can
check that the diagnostic points at it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.cli import build_parser, main
from orchestrator.commands import validate

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

SIGNIFICANT = [":", "-", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "'", '"', "#", "%", "@", "`", "?", "\t", "<<", " ", "\n", "\\"]
CONTROLS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x9f", "\x85", "\u2028", "\ufeff", "\ufffe", "\r"]
TAGS = ["!!int ", "!!float ", "!!bool ", "!!null ", "!!str ", "!!binary ", "!!timestamp ", "!!set ", "!!omap ", "!!pairs ",
        "!!map ", "!!seq ", "!!merge ", "!!python/object:os.system ", "!custom ", "!<tag:x> ", "!! ", "!"]
VALUES = ["2024-02-30", "2024-13-01", "2001-12-14t21:59:43.10-05:00", "2024-02-30 10:00:00", "9" * 5000, "0x" + "f" * 5000,
          ":".join(["59"] * 3000), "1_000", "0b101", "0o17", "017", "1:30", ".nan", "-.inf", "1e400", "~", "null", "yes", "off",
          "[]", "{}", "&a x", "*a", "*nope", "{<<: *a}", "&a {<<: *a}", "!!int as", "!!bool maybe", "!!float x", "!!timestamp x",
          "!!binary ???", "!!binary a", "!!int", "!!float", "!!bool", '"\\x00"', "'", '"', "|", ">-", "? x", "=", "<<", "!!merge x"]
ANCHORED = ["&a {<<: *a}", "&a [*a]", "&a {x: *a}", "&m {<<: [*m, *m]}"]


@dataclass(frozen=True)
class Mutant:
    text: str
    operator: str


def mutate(text: str, rng: random.Random) -> Mutant:
    operator = rng.choice(sorted(OPERATORS))
    return Mutant(OPERATORS[operator](text, rng), operator)


def _position(text: str, rng: random.Random) -> int:
    return rng.randrange(len(text) + 1)


def _insert(text: str, rng: random.Random, choices: list[str]) -> str:
    at = _position(text, rng)
    return text[:at] + rng.choice(choices) + text[at:]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _delete_chars(text: str, rng: random.Random) -> str:
    at = _position(text, rng)
    return text[:at] + text[at + rng.randint(1, 8):]


def _duplicate_chars(text: str, rng: random.Random) -> str:
    at = _position(text, rng)
    end = at + rng.randint(1, 16)
    return text[:end] + text[at:end] + text[end:]


def _delete_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def _duplicate_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    at = rng.randrange(len(lines))
    lines.insert(at, lines[at])
    return "".join(lines)


def _swap_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "".join(lines)


def _reindent(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    at = rng.randrange(len(lines))
    lines[at] = (" " * rng.randint(1, 3) + lines[at]) if rng.random() < 0.5 else lines[at][rng.randint(1, 3):]
    return "".join(lines)


def _truncate(text: str, rng: random.Random) -> str:
    return text[: _position(text, rng)]


def _replace_value(text: str, rng: random.Random) -> str:
    """Replace what follows a `key: ` on some line with a hostile value."""
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    if not candidates:
        return text
    at = rng.choice(candidates)
    head = lines[at][: lines[at].index(": ") + 2]
    lines[at] = head + rng.choice(VALUES + ANCHORED) + "\n"
    return "".join(lines)


def _tag_value(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if ": " in line or line.lstrip().startswith("- ")]
    at = rng.choice(candidates)
    line = lines[at]
    cut = line.index(": ") + 2 if ": " in line else line.index("- ") + 2
    lines[at] = line[:cut] + rng.choice(TAGS) + line[cut:]
    return "".join(lines)


def _merge_line(text: str, rng: random.Random) -> str:
    """Insert `<<: ...` as a mapping entry, indented like a neighbouring line."""
    lines = _lines(text)
    at = rng.randrange(len(lines))
    indent = len(lines[at]) - len(lines[at].lstrip(" "))
    value = rng.choice(["*a", "[*a, *a]", "{}", "x", "[x]", "*nope", "&a {<<: *a}", "{<<: {<<: {}}}"])
    lines.insert(at, " " * indent + "<<: " + value + "\n")
    return "".join(lines)


def _anchor_and_alias(text: str, rng: random.Random) -> str:
    """Anchor one value as &a and refer to it from another, in either order."""
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.rstrip().endswith(":")]
    if len(candidates) < 2:
        return text
    first, second = rng.sample(candidates, 2)
    cut = lines[first].index(": ") + 2
    lines[first] = lines[first][:cut] + "&a " + lines[first][cut:]
    cut = lines[second].index(": ") + 2
    lines[second] = lines[second][:cut] + rng.choice(["*a", "{<<: *a}", "[*a, *a]"]) + "\n"
    return "".join(lines)


def _encode_damage(text: str, rng: random.Random) -> str:
    """A lone surrogate cannot be written as UTF-8; stand in for raw bytes with U+FFFD's neighbours."""
    return _insert(text, rng, ["\ufffd", "\U0001f600", "\u00e9", "\u200b", "\u202e"])


OPERATORS: dict[str, Callable[[str, random.Random], str]] = {
    "delete-chars": _delete_chars,
    "duplicate-chars": _duplicate_chars,
    "delete-line": _delete_line,
    "duplicate-line": _duplicate_line,
    "swap-lines": _swap_lines,
    "reindent": _reindent,
    "truncate": _truncate,
    "insert-significant": lambda text, rng: _insert(text, rng, SIGNIFICANT),
    "insert-control": lambda text, rng: _insert(text, rng, CONTROLS),
    "insert-unicode": _encode_damage,
    "replace-value": _replace_value,
    "tag-value": _tag_value,
    "merge-line": _merge_line,
    "anchor-alias": _anchor_and_alias,
}


@dataclass(frozen=True)
class Located:
    """A mutant whose one fault is known to stand at line:col (1-based)."""

    text: str
    line: int
    col: int | None  # None: only the line is known (the fault spans a construct)
    fault: str


@dataclass(frozen=True)
class Span:
    line: int  # 0-based, as PyYAML marks are
    col: int
    start: int  # character offsets into the text
    end: int


@functools.cache
def plain_scalars(text: str) -> tuple[Span, ...]:
    """Where the plain (unquoted) scalar values of a document stand, for faults placed where a value starts."""
    found: list[Span] = []

    def walk(node: Node) -> None:
        if isinstance(node, MappingNode):
            for _, value in node.value:
                walk(value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                walk(item)
        elif isinstance(node, ScalarNode) and node.style is None and node.value:
            start, end = node.start_mark, node.end_mark
            found.append(Span(start.line, start.column, start.index, end.index))

    walk(yaml.compose(text, Loader=yaml.SafeLoader))
    return tuple(found)


# Faults placed at the start of a plain scalar value; each is an error wherever it stands.
LOCATED_FAULTS = {
    "nul": lambda value: "\x00" + value,
    "escape": lambda value: "\x1b" + value,
    "bell-inside": lambda value: value[:1] + "\x07" + value[1:],
    "at-sign": lambda value: "@" + value,
    "backquote": lambda value: "`" + value,
    "bad-int-tag": lambda value: "!!int as",
    "bad-bool-tag": lambda value: "!!bool maybe",
    "unknown-tag": lambda value: "!custom " + value,
    "undefined-alias": lambda value: "*nowhere",
    "self-merge": lambda value: "&loop {<<: *loop}",
    "huge-int": lambda value: "9" * 5000,
}
# Where the diagnostic must point, relative to the value's start: the fault's own column offset,
# or None where only the line is fixed (a merge loop is reported at its `<<`).
FAULT_OFFSET: dict[str, int | None] = {"bell-inside": 1, "self-merge": None}


def located_mutant(text: str, rng: random.Random) -> Located:
    span = rng.choice(plain_scalars(text))
    fault = rng.choice(sorted(LOCATED_FAULTS))
    mutated = text[: span.start] + LOCATED_FAULTS[fault](text[span.start : span.end]) + text[span.end :]
    offset = FAULT_OFFSET.get(fault, 0)
    return Located(mutated, span.line + 1, None if offset is None else span.col + 1 + offset, fault)


def run_validate(path: Path, text: str, parse: bool = True) -> tuple[int | str, str]:
    """`orchestrate validate PATH` in-process: the exit code (or the exception that escaped) and its output.

    parse=False skips argparse (half the time of a run) and calls the command with the arguments
    `main` would have parsed for this path: the same code from there on.
    """
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: int | str = main(["validate", str(path)]) if parse else validate.run(_parsed(str(path)))
    except BaseException as error:  # noqa: BLE001 - an escaping exception is what the fuzz tests look for
        code = f"{type(error).__name__}: {error}"[:300]
        err.write(traceback.format_exc())
    return code, out.getvalue() + err.getvalue()


@functools.cache
def _parsed(path: str) -> argparse.Namespace:
    return build_parser().parse_args(["validate", path])
