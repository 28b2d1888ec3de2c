"""Reading a YAML file into plain data plus the source position of every node.

Safe YAML only. Duplicate mapping keys are an error (PyYAML silently keeps the last one).
Anchors, aliases and merge keys are allowed, but expansion is bounded so that an alias bomb
("billion laughs") is refused after a fixed amount of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.loader.diagnostics import Diagnostic, PathElement

# Nodes reached again through aliases. A document without aliases never counts; a billion-laughs
# bomb reaches this after a few milliseconds instead of expanding to 10^9 nodes.
MAX_ALIAS_EXPANSION = 50_000
MAX_DEPTH = 64
MAX_BYTES = 5 * 1024 * 1024
MERGE_TAG = "tag:yaml.org,2002:merge"

try:  # libyaml is much faster where it is available
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Positions:
    """Where each data path starts: the value, and for mapping entries the key too."""

    values: dict[tuple[PathElement, ...], Mark] = field(default_factory=dict)
    keys: dict[tuple[PathElement, ...], Mark] = field(default_factory=dict)

    def locate(self, path: tuple[PathElement, ...], at_key: bool = False) -> Mark:
        """The position of path, or of its nearest ancestor that has one."""
        table = self.keys if at_key else self.values
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Mark(1, 1)


class SourceError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node graph into data, recording positions and refusing bad shapes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions = Positions()
        self.expanded = 0
        self.seen: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: Node, message: str, path: tuple[PathElement, ...]) -> SourceError:
        mark = _mark(node)
        return SourceError(Diagnostic(self.file, mark.line, mark.col, message, path))

    def build(self, node: Node, path: tuple[PathElement, ...]) -> Any:
        if id(node) in self.seen:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)", ())
        self.seen.add(id(node))
        if len(path) > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?)", path[:8])
        self.positions.values.setdefault(path, _mark(node))
        if isinstance(node, MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: ScalarNode, path: tuple[PathElement, ...]) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            raise self.fail(node, f"cannot read value: {getattr(error, 'problem', error)}", path) from None

    def build_mapping(self, node: MappingNode, path: tuple[PathElement, ...]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                self.merge_into(result, explicit, value_node, path)
                continue
            key = self.mapping_key(key_node, path)
            if key in explicit:
                raise self.fail(key_node, f"duplicate key {key!r} (each key may appear once in a mapping)", path + (key,))
            explicit.add(key)
            self.positions.keys[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result

    def mapping_key(self, key_node: Node, path: tuple[PathElement, ...]) -> str:
        if not isinstance(key_node, ScalarNode):
            raise self.fail(key_node, "mapping keys must be plain strings", path)
        key = self.scalar(key_node, path)
        if isinstance(key, bool) or key is None:
            # `yes:`/`on:`/`null:` as keys are YAML 1.1 traps; keep the text the author wrote.
            return str(key_node.value)
        return str(key)

    def merge_into(self, result: dict[Any, Any], explicit: set[Any], value_node: Node, path: tuple[PathElement, ...]) -> None:
        """YAML merge keys (`<<: *base`): merged entries never override explicit ones."""
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise self.fail(source, "a merge key (<<) takes a mapping or a list of mappings", path)
            merged = self.build_mapping(source, path)
            for key, value in merged.items():
                if key not in explicit and key not in result:
                    result[key] = value


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


def read_yaml(path: Path) -> tuple[Any, Positions]:
    """Read one scenario file. Raises SourceError with one located diagnostic."""
    file = str(path)
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise SourceError(Diagnostic(file, 1, 1, f"the file is larger than {MAX_BYTES} bytes", ()))
    text = decode(raw, file)
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        raise SourceError(Diagnostic(file, 1, 1, "the file is empty: expected a scenario (a mapping with name, states, ...)", ()))
    node = compose(text, file)
    builder = _Builder(file)
    data = builder.build(node, ())
    return data, builder.positions


def compose(text: str, file: str) -> Node:
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        raise SourceError(syntax_diagnostic(error, file, text)) from None
    except yaml.YAMLError as error:
        raise SourceError(Diagnostic(file, 1, 1, f"YAML error: {error}", ())) from None
    nodes = [node for node in nodes if node is not None]
    if not nodes:
        raise SourceError(Diagnostic(file, 1, 1, "the file is empty: expected a scenario (a mapping with name, states, ...)", ()))
    if len(nodes) > 1:
        mark = _mark(nodes[1])
        raise SourceError(Diagnostic(file, mark.line, mark.col, "a scenario file holds one YAML document, found more", ()))
    return nodes[0]


def syntax_diagnostic(error: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = error.problem or "malformed YAML"
    if _char_at(text, line, col) == "\t" or "\\t" in problem:
        return Diagnostic(file, line, col, "YAML syntax error: a tab character; YAML indents with spaces only", ())
    context = f" ({error.context})" if error.context else ""
    return Diagnostic(file, line, col, f"YAML syntax error: {problem}{context}", ())


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.splitlines()
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]):
        return lines[line - 1][col - 1]
    return ""
