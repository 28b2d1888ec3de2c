"""The imported scenario checked by the loader itself (`orchestrate validate`'s rules, beyond the
models: a table policy's statements name a Resource, references name declared entities, ...):
an entity the loader refuses is left out with the loader's message as a note, and the rest is
checked again, so that what `orchestrate import` writes always validates."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from orchestrator.imports.checks import check_entities
from orchestrator.imports.resources import SECTIONS, Imported
from orchestrator.loader import ScenarioError, load_scenario

Render = Callable[[], str]


def loader_problems(text: str) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) of each diagnostic the loader gives for ``text``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imported.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as error:
            return [(d.path, d.message) for d in error.diagnostics]
    return []


def validated(imported: Imported, render: Render) -> str:
    """``render()``'s text once the loader accepts it, leaving out each entity it refuses."""
    while True:
        text = render()
        problems = loader_problems(text)
        refused = {(str(p[0]), str(p[1])): message for p, message in problems
                   if len(p) >= 2 and p[0] in SECTIONS.values() and p[1] in imported.sections[str(p[0])]}
        if not refused:
            return text   # valid, or a problem no entity explains (the command reports it)
        for (section, name), message in refused.items():
            imported.notes.append(f"{section}.{name}: not imported, validation refuses it: {message}")
            del imported.sections[section][name]
        check_entities(imported)
