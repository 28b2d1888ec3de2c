"""Never a crash, always a valid scenario: templates whose properties are replaced by values of
other shapes (seeded mutants of the test templates) import with notes, or are refused with one
located message, and what is written always validates."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.imports import TemplateError, import_template
from orchestrator.imports.template import parse_text
from orchestrator.loader import load_scenario

DATA = Path(__file__).parent / "data"
JUNK: list[Any] = [None, 1, "x", [], {}, [1], {"a": 1}, {"Ref": "Nope"}, {"Fn::GetAtt": "bad"}, True,
                   "arn:aws:iam::aws:policy/X", [{"a": None}], {"Fn::ImportValue": "x"}]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        yield from _paths(item, path + (key,))


def _mutant(rng: random.Random, template: dict[str, Any]) -> dict[str, Any]:
    mutant = copy.deepcopy(template)
    paths = [p for p in _paths(mutant) if len(p) >= 3]
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(paths)
        target = mutant
        try:
            for key in parents:
                target = target[key]
            target[last] = copy.deepcopy(rng.choice(JUNK))
        except (KeyError, IndexError, TypeError):
            pass   # an earlier change removed the path
    return mutant


@pytest.mark.parametrize("seed", range(4))
def test_mutants_import_to_valid_scenarios_or_one_located_error(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    templates = [parse_text(name, (DATA / name).read_text()) for name in ("seed.yaml", "rich.yaml")]
    for number in range(40):
        path = tmp_path / f"mutant{number}.json"
        path.write_text(json.dumps(_mutant(rng, rng.choice(templates))))
        try:
            result = import_template(path)
        except TemplateError as error:
            assert str(error).startswith(f"{path}:")
            continue
        written = tmp_path / f"mutant{number}.yaml"
        written.write_text(result.text)
        load_scenario(written)   # raises ScenarioError if it does not validate
