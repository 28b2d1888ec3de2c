"""Counted nouns in what orchestrate prints: "1 state", "2 states", never "1 states" nor "state(s)"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and the noun agreeing with it (English: the singular for exactly one, the plural,
    by default the noun plus "s", for any other number, zero too)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
