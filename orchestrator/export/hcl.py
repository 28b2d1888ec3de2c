"""A small HCL writer (Terraform language, "Syntax": native syntax): attributes, blocks, and
expressions (`Expr`: written as is, e.g. `aws_iam_user.tester.arn`)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any


class Expr(str):
    """An HCL expression written verbatim (a reference, a function call, a template)."""


@dataclass
class Block:
    """`type "label" ... { attributes; nested blocks }`; `attributes` values may be Blocks (a
    nested block) or lists of Blocks (repeated nested blocks)."""

    type: str
    labels: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)

    def render(self, indent: int = 0) -> str:
        pad = "  " * indent
        head = " ".join([self.type, *(json.dumps(label) for label in self.labels)])
        lines = [f"{pad}{head} {{"]
        for name, value in self.attributes.items():
            nested = value if isinstance(value, list) and value and all(isinstance(v, Block) for v in value) else None
            if isinstance(value, Block):
                nested = [value]
            if nested is not None:
                lines += [Block(name, [], b.attributes).render(indent + 1) for b in nested]
            else:
                lines.append(f"{pad}  {name} = {value_text(value, indent + 1)}")
        lines.append(f"{pad}}}")
        return "\n".join(lines)


def string(text: str) -> str:
    """A quoted HCL string: JSON escapes, and `${`/`%{` escaped as `$${`/`%%{` (no templates)."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def value_text(value: Any, indent: int = 0) -> str:
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, bytes):  # a binary attribute value (DynamoDB JSON's B is base64)
        return string(base64.b64encode(value).decode("ascii"))
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "  " * indent
        items = [f"{pad}  {string(str(k))} = {value_text(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def jsonencode(value: Any) -> Expr:
    """`jsonencode({...})` (Terraform language, "jsonencode Function"): a policy whose values may
    be references."""
    return Expr(f"jsonencode({value_text(value, 1)})")
