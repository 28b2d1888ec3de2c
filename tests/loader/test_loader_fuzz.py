"""Hostile input never crashes `orchestrate validate`: mutants of the shipped scenarios exit 0 or 2,
print no traceback, and every diagnostic is located; where the fault's position is known, at it.

Before the loader was hardened, 498 of these 5,000 seeded mutants failed: 224 raised out of
`validate` (RecursionError from merge loops, ValueError from impossible dates, 5,000-digit integers
and `!!int as`, KeyError from `!!bool maybe`, AttributeError from `!!timestamp x`) and 274 printed
an unlocated line (a control character: `1:1` and `in "<unicode string>", position N`); 389 of
600 located mutants crashed or were reported at the wrong place.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loader_mutants import OPERATORS, SCENARIOS, located_mutant, mutate, run_validate

from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.model.schema import scenario_schema

MUTANTS = 5_000
LOCATED = 600
TEXTS = [path.read_text() for path in SCENARIOS]
DIAGNOSTIC = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): \S.*$")


def _problem(path: Path, text: str, code: int | str, output: str) -> str | None:
    """What is wrong with one run of validate on a mutant, or None."""
    if code not in (0, 2):
        return f"exit {code}"
    if "Traceback" in output:
        return "printed a traceback"
    if code == 2:
        lines = len(text.splitlines()) + 1
        for line in output.strip().splitlines():
            match = DIAGNOSTIC.match(line)
            if match is None or match["file"] != str(path) or not 1 <= int(match["line"]) <= lines:
                return f"unlocated diagnostic: {line[:200]!r}"
    return None


def _has_bytes(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_bytes(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_bytes(item) for item in value)
    return isinstance(value, bytes)


def test_seeded_mutants_exit_0_or_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "mutant.yaml"
    failures, codes, operators = [], Counter[int | str](), Counter[str]()
    for seed in range(MUTANTS):
        rng = random.Random(seed)
        mutant = mutate(rng.choice(TEXTS), rng)
        code, output = run_validate(path, mutant.text, parse=False)
        codes[code] += 1
        operators[mutant.operator] += 1
        problem = _problem(path, mutant.text, code, output)
        if problem:
            failures.append(f"seed {seed} ({mutant.operator}): {problem}")
    assert not failures, f"{len(failures)} of {MUTANTS} mutants failed:\n" + "\n".join(failures[:20])
    assert set(operators) == set(OPERATORS) and min(operators.values()) > MUTANTS // (3 * len(OPERATORS))
    assert codes[0] > MUTANTS // 20 and codes[2] > MUTANTS // 2, codes  # the mutants are neither all valid nor all broken


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.sampled_from(TEXTS), rng=st.randoms(use_true_random=False), again=st.booleans())
def test_mutants_never_crash(tmp_path_factory: pytest.TempPathFactory, text: str, rng: random.Random, again: bool) -> None:
    mutant = mutate(text, rng)
    if again:  # two faults at once: the first may hide the second, but neither may crash
        mutant = mutate(mutant.text, rng)
    path = tmp_path_factory.getbasetemp() / "hypothesis-mutant.yaml"
    code, output = run_validate(path, mutant.text)
    assert _problem(path, mutant.text, code, output) is None, (mutant.operator, output[-2000:])


# Fragments of YAML's syntax, for documents made from scratch rather than mutated.
FRAGMENTS = [*"abc:-[]{},&*!|>'\"#%@`? \n\t<\\0129.x", "\x00", "\u2028", "\x85", "\r", "\ufeff", "\u00e9", "!!int ", "!!binary ",
             "!!timestamp ", "<<: ", "&a ", "*a", "name: x\n", "states:\n  - name: a\n", "2024-02-30", "9" * 400]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join) | st.text(max_size=80))
def test_documents_from_scratch_never_crash(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.getbasetemp() / "hypothesis-scratch.yaml"
    code, output = run_validate(path, text)
    assert _problem(path, text, code, output) is None, output[-2000:]


def test_faults_are_reported_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "located.yaml"
    wrong, faults = [], Counter[str]()
    for seed in range(LOCATED):
        rng = random.Random(seed)
        mutant = located_mutant(rng.choice(TEXTS), rng)
        faults[mutant.fault] += 1
        path.write_text(mutant.text, encoding="utf-8")
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        got = [(d.line, d.col) for d in caught.value.diagnostics]
        want_col = got[0][1] if mutant.col is None and got else mutant.col
        if got != [(mutant.line, want_col)]:
            wrong.append(f"seed {seed} ({mutant.fault}): want {mutant.line}:{mutant.col}, got {caught.value}")
    assert not wrong, f"{len(wrong)} of {LOCATED} misplaced:\n" + "\n".join(wrong[:20])
    assert min(faults.values()) >= 20, faults


def test_the_schema_accepts_every_mutant_that_validates(tmp_path: Path) -> None:
    """The editor's schema is never stricter than the CLI (patches included): no false red squiggles."""
    validator = jsonschema.Draft202012Validator(scenario_schema())
    path, checked = tmp_path / "valid.yaml", 0
    for seed in range(1_000):
        rng = random.Random(seed)
        path.write_text(mutate(rng.choice(TEXTS), rng).text, encoding="utf-8")
        try:
            loaded = load_scenario(path)
        except ScenarioError:
            continue
        if _has_bytes(loaded.data):  # !!binary has no JSON form, so no JSON Schema meaning
            continue
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(loaded.data)]
        assert not errors, f"seed {seed}: validate accepts it, the schema does not: {errors}"
        checked += 1
    assert checked > 100
