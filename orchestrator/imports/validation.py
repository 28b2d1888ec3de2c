"""The imported scenario checked by the loader itself (`orchestrate validate`'s rules, beyond the
models: a table policy's statements name a Resource, references name declared entities, ...):
an entity the loader refuses is left out with the loader's message as a note, and the rest is
checked again, so that what `orchestrate import` writes always validates. The last check is of
the very text returned, so its verdict travels with it (`Validated.problems`): the command does
not load the text a second time to learn what it already knows (issue 21)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.imports.checks import check_entities
from orchestrator.imports.resources import SECTIONS, Imported
from orchestrator.loader import ScenarioError, load_scenario

Render = Callable[[], str]


@dataclass(frozen=True)
class Validated:
    text: str
    #: The loader's diagnostics for ``text`` as `orchestrate validate` prints them; "" when it validates.
    problems: str


def loader_error(text: str) -> ScenarioError | None:
    """What the loader refuses in ``text``, read as a file as `orchestrate validate` reads it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imported.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as error:
            return error
    return None


def validated(imported: Imported, render: Render) -> Validated:
    """``render()``'s text once the loader accepts it, leaving out each entity it refuses."""
    while True:
        text = render()
        error = loader_error(text)
        problems = [(d.path, d.message) for d in error.diagnostics] if error is not None else []
        refused = {(str(p[0]), str(p[1])): message for p, message in problems
                   if len(p) >= 2 and p[0] in SECTIONS.values() and p[1] in imported.sections[str(p[0])]}
        if not refused:  # valid, or a problem no entity explains (the command reports it)
            return Validated(text, "" if error is None else str(error))
        for (section, name), message in refused.items():
            imported.notes.append(f"{section}.{name}: not imported, validation refuses it: {message}")
            del imported.sections[section][name]
        check_entities(imported)
