"""Colour on a terminal only; `--no-color` and NO_COLOR (no-color.org) turn it off. no-color.org:
NO_COLOR "when present and not an empty string" prevents colour, so `NO_COLOR=` (empty) keeps it.

Plain ANSI codes: a handful of colours does not justify a rendering library's import time
on every command (start-up is part of the seed overhead we benchmark).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

CODES = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2", "magenta": "35"}


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO, no_color: bool = False) -> Style:
        wanted = not no_color and not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()
        return cls(bool(wanted))

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(CODES[name] for name in names)
        return f"\033[{codes}m{text}\033[0m"


def plain() -> Style:
    return Style(False)


def stdout_style(no_color: bool) -> Style:
    return Style.for_stream(sys.stdout, no_color)
