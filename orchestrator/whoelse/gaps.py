"""What the encoding leaves out, kept sound: each piece it cannot encode becomes a fresh boolean (the
solver may take it either way), and its reason is kept. A proof holds whatever those booleans are;
a witness that needed one is re-decided by the concrete engine, and if that engine refuses it the
verdict is unknown with these reasons (never proved)."""
from __future__ import annotations

import z3

__all__ = ["Gaps"]


class Gaps:
    """The opaque pieces of one encoding, and why each is opaque."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def opaque(self, reason: str) -> z3.BoolRef:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return z3.Bool(f"opaque.{len(self.reasons)}.{z3.FreshInt().get_id()}")

    def __bool__(self) -> bool:
        return bool(self.reasons)
