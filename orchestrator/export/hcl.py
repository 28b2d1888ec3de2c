"""A small HCL writer (Terraform language, "Syntax": native syntax): attributes, blocks, and
expressions (`Expr`: written as is, e.g. `aws_iam_user.tester.arn`).

What it writes is what `terraform fmt` leaves unchanged (Terraform language, "Style Guide":
two spaces per nesting level, and "align the equals signs for consecutive arguments"), as
hclwrite's formatter does it (hashicorp/hcl, hclwrite/format.go): consecutive lines that each
hold a whole `name = value` form a group whose `=` line up one space after the longest name; a
line whose value opens a bracket it does not close (`tags = {`, `policy = jsonencode({`), a
nested block, a closing bracket or a blank line ends the group. Strings use HCL's escapes only
("String Literals": `\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN`, other characters literally as UTF-8;
JSON's surrogate pairs and `\\b`/`\\f` are refused by HCL's parser) and `$${`/`%%{` for a literal
`${`/`%{` ("Strings and Templates": escape sequences).
"""

from __future__ import annotations

import base64
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

INDENT = "  "
#: HCL's named escapes ("String Literals"); every other unprintable character is \\uNNNN or \\UNNNNNNNN.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Expr(str):
    """An HCL expression written verbatim (a reference, a function call, a template)."""


@dataclass(frozen=True)
class Call:
    """`NAME(value)`, its argument written at the depth where the call stands (a policy's
    `jsonencode({...})` is indented as the attribute that holds it)."""

    name: str
    argument: Any


@dataclass
class Block:
    """`type "label" ... { attributes; nested blocks }`; `attributes` values may be Blocks (a
    nested block) or lists of Blocks (repeated nested blocks)."""

    type: str
    labels: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)

    def render(self, level: int = 0) -> str:
        head = " ".join([self.type, *(quote(label, template=False) for label in self.labels)])
        lines = [f"{INDENT * level}{head} {{"]
        pairs: list[tuple[str, str]] = []
        for name, value in self.attributes.items():
            nested = _nested_blocks(value)
            if nested is None:
                pairs.append((name, value_text(value, level + 1)))
                continue
            lines += assignments(pairs, level + 1)
            pairs = []
            lines += [Block(name, [], b.attributes).render(level + 1) for b in nested]
        lines += assignments(pairs, level + 1)
        lines.append(f"{INDENT * level}}}")
        return "\n".join(lines)


def _nested_blocks(value: Any) -> list[Block] | None:
    if isinstance(value, Block):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, Block) for v in value):
        return value
    return None


def columns(text: str) -> int:
    """The columns hclwrite counts for a name (grapheme clusters): combining marks, joiners and
    variation selectors add none."""
    count, joined = 0, False
    for char in text:
        if joined:
            joined = False
            continue
        if char == "\u200d":
            joined = True
        elif not (unicodedata.combining(char) or 0xFE00 <= ord(char) <= 0xFE0F):
            count += 1
    return count


def assignments(pairs: list[tuple[str, str]], level: int) -> list[str]:
    """`name = value` lines at `level`, the `=` of each run of single-line values aligned."""
    pad = INDENT * level
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def close_run() -> None:
        width = max((columns(name) for name, _ in run), default=0)
        lines.extend(f"{pad}{name}{' ' * (width - columns(name))} = {text}" for name, text in run)
        run.clear()

    for name, text in pairs:
        if "\n" in text:  # opens a bracket on this line: not part of a group (hclwrite's netBrackets)
            close_run()
            lines.append(f"{pad}{name} = {text}")
        else:
            run.append((name, text))
    close_run()
    return lines


def escape(text: str, template: bool = True) -> str:
    """The inside of a quoted HCL string holding `text` literally; `template` (a quoted string
    that is a template, every expression's) also escapes `${` and `%{`."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    written = "".join(out)
    return written.replace("${", "$${").replace("%{", "%%{") if template else written


def quote(text: str, template: bool = True) -> str:
    """A quoted HCL string holding `text` literally (a block label is no template)."""
    return f'"{escape(text, template)}"'


def string(text: str) -> str:
    """A quoted HCL string expression: no template sequence in it (`$${`, `%%{`)."""
    return quote(text)


def value_text(value: Any, level: int = 0) -> str:
    """`value` as an HCL expression whose first line stands at `level` (nested lines below it)."""
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, Call):
        return f"{value.name}({value_text(value.argument, level)})"
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
        return _list_text(value, level)
    if isinstance(value, dict):
        if not value:
            return "{}"
        pairs = [(string(str(k)), value_text(v, level + 1)) for k, v in value.items()]
        return "{\n" + "\n".join(assignments(pairs, level + 1)) + f"\n{INDENT * level}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _list_text(values: list[Any], level: int) -> str:
    """`[a, b]` on one line; one element a line (each with its comma) when any spans lines."""
    items = [value_text(v, level + 1) for v in values]
    if not any("\n" in item for item in items):
        return "[" + ", ".join(items) + "]"
    inner = INDENT * (level + 1)
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{INDENT * level}]"


def jsonencode(value: Any) -> Call:
    """`jsonencode({...})` (Terraform language, "jsonencode Function"): a policy whose values may
    be references."""
    return Call("jsonencode", value)
