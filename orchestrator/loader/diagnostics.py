"""Diagnostics: located error values, collected and printed together (as Terraform does)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import InvalidInputError

PathElement = str | int
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:/*@+=,-]+$")


def format_path(path: tuple[PathElement, ...]) -> str:
    """('keys', 'data', 'policy', 'Statement', 1, 'Effect') -> keys.data.policy.Statement[1].Effect"""
    text = ""
    for element in path:
        if isinstance(element, int):
            text += f"[{element}]"
        elif _PLAIN_KEY.match(element):
            text += f".{element}" if text else element
        else:
            quoted = json.dumps(element, ensure_ascii=False)  # escapes quotes and line breaks: one line
            text += f".{quoted}" if text else quoted
    return text


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    col: int
    message: str
    path: tuple[PathElement, ...] = ()

    def __str__(self) -> str:
        where = f" (at {format_path(self.path)})" if self.path else ""
        if self.line == 0:  # about the path itself (missing file, empty folder): no position
            return f"{self.file}: {self.message}{where}"
        return f"{self.file}:{self.line}:{self.col}: {self.message}{where}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "message": self.message,
            "path": format_path(self.path) or None,
        }


class ScenarioError(InvalidInputError):
    """Invalid input: every diagnostic found, in file order."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.col))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
