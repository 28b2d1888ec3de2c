"""Reading a CloudFormation template, YAML or JSON, with its short-form intrinsic tags.

AWS CloudFormation User Guide, "Template anatomy" (a mapping with a `Resources` section, each
resource a mapping with `Type` and optional `Properties`) and "Intrinsic function reference" (the
short forms `!Ref`, `!GetAtt`, `!Sub`, `!Join`, `!If`, ... are YAML tags for the long forms
`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`). YAML is read with a SafeLoader subclass that turns each
tag into its long form, so nothing but plain data is ever constructed. A template that cannot be
read, or is not CloudFormation, is one located `TemplateError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestrator.loader.diagnostics import Diagnostic

#: "Intrinsic function reference": the short-form tags and the long form each stands for.
FUNCTIONS = ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
             "Transform", "If", "Equals", "And", "Or", "Not", "Length", "ToJsonString")


class TemplateError(Exception):
    """The template cannot be read, or is not CloudFormation: one located diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


@dataclass(frozen=True)
class Template:
    path: Path
    body: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body["Resources"]


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short-form tags as their long forms, and refuses
    YAML aliases, which CloudFormation does not take (cfn-lint W1101) and which would let a small
    file stand for an exponentially large template."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(problem="YAML aliases (*name) are not taken by CloudFormation",
                                       problem_mark=event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


def _plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _function(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value = _plain(loader, node)
        if name == "GetAtt" and isinstance(value, str):  # !GetAtt Logical.Attribute
            logical, _, attribute = value.partition(".")
            value = [logical, attribute]
        return {f"Fn::{name}": value}
    return construct


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _plain(loader, node)}


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _plain(loader, node)}


CloudFormationLoader.add_constructor("!Ref", _ref)
CloudFormationLoader.add_constructor("!Condition", _condition)
for _name in FUNCTIONS:
    CloudFormationLoader.add_constructor(f"!{_name}", _function(_name))


def read_template(path: Path | str) -> Template:
    """The template at ``path``; TemplateError when unreadable or not CloudFormation."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(Diagnostic(str(path), 0, 0, f"cannot read the template: {getattr(error, 'strerror', None) or error}")) from None
    body = parse_text(str(path), text)
    check_shape(str(path), text, body)
    return Template(path, body)


def parse_text(file: str, text: str) -> Any:
    """JSON when the text is a JSON object (JSON's own positions), else YAML with the CFN tags."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(Diagnostic(file, error.lineno, error.colno, f"not valid JSON: {error.msg}")) from None
        except RecursionError:
            raise TemplateError(Diagnostic(file, 1, 1, "not valid JSON: nested too deeply")) from None
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise TemplateError(Diagnostic(file, line, col, f"not valid YAML: {error.problem or error.context}")) from None
    except yaml.YAMLError as error:
        raise TemplateError(Diagnostic(file, 1, 1, f"not valid YAML: {error}")) from None
    except RecursionError:
        raise TemplateError(Diagnostic(file, 1, 1, "not valid YAML: nested too deeply")) from None


def check_shape(file: str, text: str, body: Any) -> None:
    """"Template anatomy": a mapping whose `Resources` maps logical ids to mappings with a `Type`."""
    if not isinstance(body, dict):
        raise TemplateError(Diagnostic(file, 1, 1, "not a CloudFormation template: the top level must be a mapping"
                                       " with a Resources section"))
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        line, col = locate(text, ("Resources",))
        raise TemplateError(Diagnostic(file, line, col, "not a CloudFormation template: no Resources section"
                                       " mapping logical ids to resources", ("Resources",)))
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            line, col = locate(text, ("Resources", str(logical)))
            raise TemplateError(Diagnostic(file, line, col, f"resource {logical!r} has no Type",
                                           ("Resources", str(logical))))
        if "Properties" in resource and not isinstance(resource["Properties"], dict):
            line, col = locate(text, ("Resources", str(logical), "Properties"))
            raise TemplateError(Diagnostic(file, line, col, f"the Properties of {logical!r} must be a mapping",
                                           ("Resources", str(logical), "Properties")))


def locate(text: str, path: tuple[str, ...]) -> tuple[int, int]:
    """Line and column (1-based) of the value at ``path``, as far as it can be found; else 1:1."""
    try:
        node = yaml.compose(text, Loader=CloudFormationLoader)  # noqa: S506 - composes nodes only
    except yaml.YAMLError:
        return 1, 1
    mark = node.start_mark if node is not None else None
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        if found is None:
            break
        mark, node = found[0].start_mark, found[1]
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
