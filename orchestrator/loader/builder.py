"""A composed YAML node graph turned into plain data, with the source position of every node.

Duplicate mapping keys are an error (PyYAML silently keeps the last one). Anchors, aliases and
merge keys are allowed, but every re-visit of a node (through an alias or a merge key `<<`)
counts against one budget, so an alias bomb ("billion laughs") or a merge bomb is refused after
a fixed amount of work, and a merge key that refers to a mapping containing it is a located error
instead of endless recursion. Only the tags of plain JSON-like data are constructed; any value
that cannot be constructed is a located error, never an exception from PyYAML.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import InvalidInputError
from orchestrator.loader.diagnostics import Diagnostic, PathElement

# Nodes reached again through aliases or merge keys. A document without aliases never counts; a
# billion-laughs bomb reaches this after a few milliseconds instead of expanding to 10^9 nodes.
MAX_ALIAS_EXPANSION = 50_000
MAX_DEPTH = 64
# Python refuses to print integers of more than 4,300 digits (and may be set as low as 640); no
# scenario field takes a number anywhere near this long, so longer integer text is refused.
MAX_INT_CHARS = 300

YAML_TAG = "tag:yaml.org,2002:"
MERGE_TAG = YAML_TAG + "merge"
MAP_TAG, SEQ_TAG, INT_TAG = YAML_TAG + "map", YAML_TAG + "seq", YAML_TAG + "int"
# Scalars a scenario can hold: JSON's types, and binary for DynamoDB B attributes. Dates are text
# (the loader does not resolve them implicitly, see source.py), so `!!timestamp` is refused too.
SCALAR_TAGS = frozenset(YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "binary"))
# What PyYAML's constructors raise on a value their tag cannot hold (`!!int as`: ValueError,
# `!!bool maybe`: KeyError, `!!int ""`: IndexError, `!!binary a`: ConstructorError, ...).
CONSTRUCTION_ERRORS = (yaml.YAMLError, ValueError, LookupError, TypeError, AttributeError, OverflowError, binascii.Error)


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

    def adopt(self, other: Positions, parent: tuple[PathElement, ...], children: set[Any]) -> None:
        """Take other's positions under parent's children (the entries a merge key added), never overriding."""
        depth = len(parent)
        for mine, theirs in ((self.values, other.values), (self.keys, other.keys)):
            for path, mark in theirs.items():
                if len(path) > depth and path[:depth] == parent and path[depth] in children:
                    mine.setdefault(path, mark)


class SourceError(InvalidInputError):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def node_mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG) if tag.startswith(YAML_TAG) else tag


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


Path = tuple[PathElement, ...]


class Builder:
    """Turns a composed node graph into data, recording positions and refusing bad shapes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions = Positions()
        self.expanded = 0
        self.seen: set[int] = set()
        self.open_mappings: set[int] = set()  # mappings being built, to catch merge loops
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: Node, message: str, path: Path) -> SourceError:
        mark = node_mark(node)
        return SourceError(Diagnostic(self.file, mark.line, mark.col, message, path))

    def visit(self, node: Node) -> None:
        """Count a node reached again (through an alias or a merge key) against the budget."""
        if id(node) in self.seen:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (an alias bomb?)", ())
        self.seen.add(id(node))

    def build(self, node: Node, path: Path) -> Any:
        self.visit(node)
        if len(path) > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?)", path[:8])
        self.positions.values.setdefault(path, node_mark(node))
        if isinstance(node, MappingNode):
            self.check_collection_tag(node, MAP_TAG, path)
            return self.build_mapping(node, path)
        if isinstance(node, SequenceNode):
            self.check_collection_tag(node, SEQ_TAG, path)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        return self.scalar(node, path)

    def check_collection_tag(self, node: Node, wanted: str, path: Path) -> None:
        if node.tag != wanted:  # `!!set {a, b}`, `!!omap [...]`, `!!str [a]`, `!custom {}`
            kind = "mapping" if wanted == MAP_TAG else "list"
            raise self.fail(node, f"the tag {short_tag(node.tag)} is not supported here: write a plain {kind}", path)

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag not in SCALAR_TAGS:
            raise self.fail(node, f"the tag {short_tag(node.tag)} is not supported: a scenario holds strings, numbers,"
                            " booleans, null and (with !!binary) bytes", path)
        if node.tag == INT_TAG and len(node.value) > MAX_INT_CHARS:
            raise self.fail(node, f"an integer of more than {MAX_INT_CHARS} characters is too large for any field", path)
        try:
            return self.constructor.construct_object(node, deep=True)
        except CONSTRUCTION_ERRORS:
            raise self.fail(node, f"{shorten(node.value)!r} is not a valid {short_tag(node.tag)}", path) from None

    def build_mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        """Explicit entries first, then merge keys (`<<`), which add only the keys still missing."""
        result: dict[Any, Any] = {}
        self.open_mappings.add(id(node))
        try:
            for key_node, value_node in node.value:
                if key_node.tag != MERGE_TAG:
                    self.explicit_entry(result, key_node, value_node, path)
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    self.merge_into(result, key_node, value_node, path)
        finally:
            self.open_mappings.discard(id(node))
        return result

    def explicit_entry(self, result: dict[Any, Any], key_node: Node, value_node: Node, path: Path) -> None:
        key = self.mapping_key(key_node, path)
        if key in result:
            raise self.fail(key_node, f"duplicate key {shorten(key)!r} (each key may appear once in a mapping)", path + (key,))
        self.positions.keys[path + (key,)] = node_mark(key_node)
        result[key] = self.build(value_node, path + (key,))

    def mapping_key(self, key_node: Node, path: Path) -> str:
        if not isinstance(key_node, ScalarNode):
            raise self.fail(key_node, "mapping keys must be plain strings", path)
        key = self.scalar(key_node, path)
        if isinstance(key, bool) or key is None or isinstance(key, bytes):
            # `yes:`/`on:`/`null:` as keys are YAML 1.1 traps; keep the text the author wrote.
            return str(key_node.value)
        return str(key)

    def merge_into(self, result: dict[Any, Any], key_node: Node, value_node: Node, path: Path) -> None:
        """YAML merge keys (`<<: *base`): merged entries never override explicit ones, the first source wins."""
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise self.fail(source, "a merge key (<<) takes a mapping or a list of mappings", path)
            if id(source) in self.open_mappings:
                raise self.fail(key_node, "a merge key (<<) refers to a mapping that contains it (a merge loop)", path)
            self.check_collection_tag(source, MAP_TAG, path)
            self.visit(source)
            own, self.positions = self.positions, Positions()
            try:
                merged = self.build_mapping(source, path)
            finally:
                built, self.positions = self.positions, own
            taken = {key for key in merged if key not in result}
            result.update((key, merged[key]) for key in merged if key in taken)
            self.positions.adopt(built, path, taken)
