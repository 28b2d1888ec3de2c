"""Reading a YAML file into plain data plus the source position of every node.

Safe YAML only, and every way a file can be wrong is one located diagnostic: bytes that are not
UTF-8, characters YAML forbids (at the line and column where they stand), syntax errors (inside
a flow collection, also where the collection opened), more than one document. Building the data
(duplicate keys, alias and merge bombs, tags, values that cannot be constructed) is in builder.py.

Dates are text: IAM and KMS take dates as ISO 8601 strings (IAM User Guide, "IAM JSON policy
elements: Condition operators", Date condition operators), and YAML 1.2's core schema, which the
JSON Schema and editors follow, has no timestamp type. So the loader never resolves an unquoted
`2024-02-30` into a date object (PyYAML's YAML 1.1 default would, and crashes on an impossible
one); it stays the text the author wrote, and the model decides whether text is allowed there.
"""

from __future__ import annotations

import bisect
import re
import stat
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.nodes import Node

from orchestrator.loader.builder import Builder, Mark, Positions, SourceError, node_mark
from orchestrator.loader.diagnostics import Diagnostic

__all__ = ["LineIndex", "Positions", "SourceError", "compose", "decode", "first_alias", "read_text", "read_yaml", "syntax_diagnostic"]

MAX_BYTES = 5 * 1024 * 1024
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# YAML 1.1 section 5.1 (as PyYAML and libyaml check it): the characters a stream may contain.
NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# YAML's line breaks, as PyYAML and libyaml count lines in their marks.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
FLOW_CONTEXTS = {"while parsing a flow sequence": "the [ ... ]", "while parsing a flow mapping": "the { ... }"}

try:  # libyaml is much faster where it is available
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader without the implicit timestamp type (dates are text, see above)."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP_TAG]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


def decode(raw: bytes, file: str) -> str:
    """UTF-8 (with or without a byte order mark), or one clear error naming the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        col = error.start - (before.rfind(b"\n") + 1) + 1
        message = f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded)"
        raise SourceError(Diagnostic(file, line, col, message, ())) from None


def text_position(text: str, index: int) -> Mark:
    """The 1-based line and column of text[index], counting lines as YAML does."""
    line, start = 1, 0
    for match in LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return Mark(line, index - start + 1)


def check_characters(text: str, file: str) -> None:
    """A character YAML forbids (NUL, other controls, U+FFFE) is reported where it stands."""
    found = NON_PRINTABLE.search(text)
    if found is None:
        return
    char = found.group()
    name = "a control character" if unicodedata.category(char) == "Cc" else "a noncharacter"  # U+FFFE, U+FFFF
    mark = text_position(text, found.start())
    message = (f"the character U+{ord(char):04X} ({name}) is not allowed in YAML text;"
               f' inside double quotes write it as the escape "\\u{ord(char):04x}"')
    raise SourceError(Diagnostic(file, mark.line, mark.col, message, ()))


class LineIndex:
    """Line and column of any offset of a text in O(log lines), lines counted as YAML counts them
    (text_position walks the text from its start: fine once, quadratic for every node)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in LINE_BREAK.finditer(text))]

    def mark(self, index: int) -> Mark:
        line = bisect.bisect_right(self.starts, index)
        return Mark(line, index - self.starts[line - 1] + 1)


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes, refused before reading when larger than ``max_bytes``: a regular file by
    its size, anything else (a pipe, /dev/stdin) by reading at most one byte more than the limit."""
    with path.open("rb") as stream:  # OSError is the caller's: each names an unreadable file its own way
        status = path.stat()
        if stat.S_ISREG(status.st_mode) and status.st_size > max_bytes:
            raise SourceError(_too_large(str(path), max_bytes))
        return read_stream(stream, str(path), max_bytes)


def read_stream(stream: BinaryIO, file: str, max_bytes: int = MAX_BYTES) -> bytes:
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise SourceError(_too_large(file, max_bytes))
    return raw


def _too_large(file: str, max_bytes: int) -> Diagnostic:
    return Diagnostic(file, 0, 0, f"the file is larger than {max_bytes:,} bytes (the limit; it is not read)", ())


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The text of a file within the size limit, UTF-8, without characters YAML forbids; else
    SourceError with one located diagnostic. What validate and import both read through."""
    text = decode(read_bytes(path, max_bytes), str(path))
    check_characters(text, str(path))
    return text


def read_yaml(path: Path) -> tuple[Any, Positions]:
    """Read one scenario file. Raises SourceError with one located diagnostic."""
    file = str(path)
    text = read_text(path)
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in LINE_BREAK.split(text)):
        raise SourceError(Diagnostic(file, 1, 1, "the file is empty: expected a scenario (a mapping with name, states, ...)", ()))
    node = compose(text, file)
    builder = Builder(file)
    data = builder.build(node, ())
    return data, builder.positions


def first_alias(text: str) -> Mark | None:
    """Where the first alias (`*name`) of ``text`` stands: composed nodes keep only their anchor's
    position, so a reader that refuses aliases replays the parser's events to name the alias."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                return Mark(event.start_mark.line + 1, event.start_mark.column + 1)
    except yaml.YAMLError:
        pass  # composing succeeded before, so parsing does too; nothing to report otherwise
    return None


def compose(text: str, file: str, what: str = "a scenario file") -> Node:
    """The one YAML document of ``text`` as nodes (tags left as written, nothing constructed)."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        raise SourceError(syntax_diagnostic(error, file, text)) from None
    except RecursionError:  # only the pure-Python parser recurses; libyaml stops at 1,000 levels itself
        raise SourceError(Diagnostic(file, 1, 1, "YAML syntax error: the document nests too deeply", ())) from None
    except yaml.YAMLError as error:  # a ReaderError that check_characters did not foresee
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        raise SourceError(Diagnostic(file, 1, 1, f"YAML error: {reason}", ())) from None
    nodes = [node for node in nodes if node is not None]
    if not nodes:
        raise SourceError(Diagnostic(file, 1, 1, "the file is empty: expected a scenario (a mapping with name, states, ...)", ()))
    if len(nodes) > 1:
        mark = node_mark(nodes[1])
        raise SourceError(Diagnostic(file, mark.line, mark.col, f"{what} holds one YAML document, found more", ()))
    return nodes[0]


def syntax_diagnostic(error: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    """Where the parser stopped, and (inside a flow collection, a quoted scalar...) where that began."""
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = error.problem or "malformed YAML"
    if _char_at(text, line, col) == "\t" or "\\t" in problem:
        return Diagnostic(file, line, col, "YAML syntax error: a tab character; YAML indents with spaces only", ())
    return Diagnostic(file, line, col, f"YAML syntax error: {problem}{_context(error, (line, col), text)}", ())


def _context(error: yaml.MarkedYAMLError, stopped: tuple[int, int], text: str) -> str:
    if not error.context:
        return ""
    opened = error.context_mark
    where = (opened.line + 1, opened.column + 1) if opened else stopped
    if where == stopped:
        unclosed = unclosed_flow(text, stopped)
        if unclosed is not None:
            kind, (row, column) = unclosed
            return f" ({error.context}, in {kind} opened at {row}:{column})"
        return f" ({error.context})"
    if error.context in FLOW_CONTEXTS:
        return f" (in {FLOW_CONTEXTS[error.context]} opened at {where[0]}:{where[1]})"
    return f" ({error.context} started at {where[0]}:{where[1]})"


def unclosed_flow(text: str, stopped: tuple[int, int]) -> tuple[str, tuple[int, int]] | None:
    """The innermost `[` or `{` still open where the parser stopped: PyYAML names only the flow
    node it was parsing (at the stop), so the tokens before the stop are replayed to find it."""
    openers: list[tuple[str, tuple[int, int]]] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            at = (token.start_mark.line + 1, token.start_mark.column + 1)
            if at >= stopped:
                break
            if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken)):
                openers.append(("the [ ... ]" if isinstance(token, yaml.FlowSequenceStartToken) else "the { ... }", at))
            elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)) and openers:
                openers.pop()
    except yaml.YAMLError:
        pass  # the scanner stops at its own error; the openers seen so far are what was open
    return openers[-1] if openers else None


def _char_at(text: str, line: int, col: int) -> str:
    lines = LINE_BREAK.split(text)
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]):
        return lines[line - 1][col - 1]
    return ""
