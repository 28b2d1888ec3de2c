"""Reading a CloudFormation template, YAML or JSON, with its short-form intrinsic tags, through
validate's reader (orchestrator/loader/source.py): one located diagnostic for every way a file can
be wrong, exit 2 in the command.

AWS CloudFormation User Guide, "Template anatomy" (a mapping with a `Resources` section, each
resource a mapping with `Type` and optional `Properties`) and "Intrinsic function reference" (the
short forms `!Ref`, `!GetAtt`, `!Sub`, `!Join`, `!If`, ... are YAML tags for the long forms
`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`).

Bounded as validate is: the file's size is checked before it is read (`max_bytes`, 5 MiB unless
overridden; CloudFormation itself takes a template body of at most 51,200 bytes in a request and
1 MB from an S3 object: "CloudFormation quotas", Template body size); bytes that are not UTF-8
and characters YAML forbids (NUL, other controls) are reported at their line and column;
duplicate keys (JSON's too: json keeps the last, so `"Effect": "Deny", "Effect": "Allow"` would
silently allow) and integers too long to convert are located errors. YAML aliases are refused:
CloudFormation does not take them, and a small file could stand for an exponentially large one.
YAML goes through validate's composer and Builder (TemplateBuilder adds the tags); JSON through
json_source.py, which says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import InvalidInputError
from orchestrator.imports.json_source import Relocate, json_positions, parse
from orchestrator.loader.builder import YAML_TAG, Builder, Positions, SourceError, node_mark
from orchestrator.loader.diagnostics import Diagnostic, PathElement
from orchestrator.loader.source import LINE_BREAK, MAX_BYTES, compose, first_alias, read_text

__all__ = ["MAX_BYTES", "Template", "TemplateError", "parse_text", "read_template"]

#: "Intrinsic function reference": the short-form tags and the long form each stands for.
FUNCTIONS = ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
             "Transform", "If", "Equals", "And", "Or", "Not", "Length", "ToJsonString")
STR_TAG = YAML_TAG + "str"
SHORT_FORMS = {"!Ref": "Ref", "!Condition": "Condition", **{f"!{name}": f"Fn::{name}" for name in FUNCTIONS}}
ALIAS_REFUSED = "YAML aliases (*name) are not taken by CloudFormation"


class TemplateError(InvalidInputError):
    """The template cannot be read, or is not CloudFormation: one located diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


@dataclass
class Template:
    """A template's data, and where each of its keys and values stands (found only when asked)."""

    path: Path
    body: dict[str, Any]
    text: str = ""
    known: Positions | None = field(default=None, repr=False)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body["Resources"]

    def positions(self) -> Positions:
        if self.known is None:  # a JSON template: walked again only when a message needs a place
            self.known = _positions(str(self.path), self.text)
        return self.known

    def error(self, message: str, path: tuple[PathElement, ...], at_key: bool = True) -> TemplateError:
        mark = self.positions().locate(path, at_key=at_key)
        return TemplateError(Diagnostic(str(self.path), mark.line, mark.col, message, path))


class _AliasFound(Exception):
    """A node reached a second time: an alias, which CloudFormation does not take. Pure control
    flow (the caller raises the TemplateError), so not an OrchestrateError."""


class TemplateBuilder(Builder):
    """validate's Builder (duplicate keys, overlong integers, tags that are not data: located
    errors), reading CloudFormation's short-form tags as their long forms and refusing aliases."""

    def visit(self, node: Node) -> None:
        if id(node) in self.seen:
            raise _AliasFound
        super().visit(node)

    def build(self, node: Node, path: tuple[PathElement, ...]) -> Any:
        if node.tag in SHORT_FORMS:
            return self.function(node, SHORT_FORMS[node.tag], path)
        if node.tag.startswith("!") and not node.tag.startswith("!!"):
            raise self.fail(node, f"the tag {node.tag} is not a CloudFormation intrinsic function"
                            " (Intrinsic function reference)", path)
        return super().build(node, path)

    def scalar(self, node: ScalarNode, path: tuple[PathElement, ...]) -> Any:
        # text is most of a template: PyYAML's constructor would return node.value after a
        # dispatch that costs more than the parse (a 1.4 MB template: ~1.5 s of ~3)
        if node.tag == STR_TAG:
            return node.value
        return super().scalar(node, path)

    def function(self, node: Node, name: str, path: tuple[PathElement, ...]) -> dict[str, Any]:
        """`!GetAtt A.Arn` is `{"Fn::GetAtt": ["A", "Arn"]}`; a tagged scalar is text, as CloudFormation reads it."""
        self.visit(node)
        inner = path + (name,)
        self.positions.values.setdefault(path, node_mark(node))
        self.positions.values.setdefault(inner, node_mark(node))
        value: Any
        if isinstance(node, ScalarNode):
            value = str(node.value)
        elif isinstance(node, SequenceNode):
            value = [self.build(item, inner + (index,)) for index, item in enumerate(node.value)]
        else:
            assert isinstance(node, MappingNode)
            value = self.build_mapping(node, inner)
        if name == "Fn::GetAtt" and isinstance(value, str):  # !GetAtt Logical.Attribute
            logical, _, attribute = value.partition(".")
            value = [logical, attribute]
        return {name: value}


def read_template(path: Path | str, max_bytes: int = MAX_BYTES) -> Template:
    """The template at ``path``; TemplateError when unreadable, too large or not CloudFormation."""
    path = Path(path)
    try:
        text = read_text(path, max_bytes)
    except OSError as error:
        raise TemplateError(Diagnostic(str(path), 0, 0, f"cannot read the template: {error.strerror or error}")) from None
    except SourceError as error:
        raise TemplateError(error.diagnostic) from None
    template = parse_template(path, text)
    check_shape(template)
    return template


def parse_text(file: str, text: str) -> Any:
    """The data of a template's text (JSON when it is a JSON object, else YAML with the CFN tags)."""
    return parse_template(Path(file), text).body


def parse_template(path: Path, text: str) -> Template:
    file = str(path)
    if text.lstrip().startswith("{"):
        return Template(path, _json(file, text), text)
    if all(not line.strip() or line.lstrip().startswith("#") for line in LINE_BREAK.split(text)):
        raise TemplateError(Diagnostic(file, 1, 1, "the template is empty: expected a mapping with a Resources section"))
    builder = TemplateBuilder(file)
    try:
        body = builder.build(compose(text, file, "a template"), ())
    except SourceError as error:
        raise TemplateError(error.diagnostic) from None
    except _AliasFound:
        mark = first_alias(text)
        line, col = (mark.line, mark.col) if mark else (1, 1)
        raise TemplateError(Diagnostic(file, line, col, ALIAS_REFUSED)) from None
    return Template(path, body, text, builder.positions)


def _json(file: str, text: str) -> Any:
    try:
        return parse(text)
    except json.JSONDecodeError as error:
        raise TemplateError(Diagnostic(file, error.lineno, error.colno, f"not valid JSON: {error.msg}")) from None
    except RecursionError:
        raise TemplateError(Diagnostic(file, 1, 1, "not valid JSON: nested too deeply")) from None
    except Relocate:
        _positions(file, text)  # raises at the first duplicate key or overlong integer
        raise TemplateError(Diagnostic(file, 1, 1, "not valid JSON")) from None  # pragma: no cover - the walk raised


def _positions(file: str, text: str) -> Positions:
    try:
        return json_positions(file, text)
    except SourceError as error:
        raise TemplateError(error.diagnostic) from None
    except RecursionError:
        raise TemplateError(Diagnostic(file, 1, 1, "not valid JSON: nested too deeply")) from None


def check_shape(template: Template) -> None:
    """"Template anatomy": a mapping whose `Resources` maps logical ids to mappings with a `Type`."""
    body = template.body
    if not isinstance(body, dict):
        raise TemplateError(Diagnostic(str(template.path), 1, 1, "not a CloudFormation template: the top level must"
                                       " be a mapping with a Resources section"))
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise template.error("not a CloudFormation template: no Resources section mapping logical ids to resources",
                             ("Resources",))
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise template.error(f"resource {logical!r} has no Type", ("Resources", str(logical)))
        if "Properties" in resource and not isinstance(resource["Properties"], dict):
            raise template.error(f"the Properties of {logical!r} must be a mapping", ("Resources", str(logical), "Properties"))
