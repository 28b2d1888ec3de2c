"""The access matrix's caches change no cell: plans and policy inputs kept per gate over a fixed
world (authz/gate.py, _StaticMemo), decisions reused across requests and states
(authz/evaluate.py, recall), and the per-row and per-column parts in `cell_decider`. Each of 200
cells (seeded) of a generated scenario's matrix equals what a fresh gate, with no cache at all,
decides for that one cell."""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

from bench.access import scenario
from orchestrator.analysis.access import access_matrix, cell_decider
from orchestrator.model.access import Cell
from orchestrator.analysis.offline import OfflineEngine, OfflineProbes, offline_context
from orchestrator.authz.gate.core import Gate
from orchestrator.loader import load_scenario
from orchestrator.model.scenario import DesiredState
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.resources.context import RunContext
from orchestrator.backends.moto_world import MotoWorld

#: A key-state denial quotes the service's error, whose request id is new for every call.
REQUEST_ID = re.compile(r"Request ID: [0-9a-f-]{36}")


class UncachedWorld(DesiredWorld):
    """A desired world that does not say its answers are fixed: the gate caches nothing over it."""

    answers_version = None  # type: ignore[assignment]


def uncached_engine(ctx: RunContext, desired: DesiredState) -> OfflineEngine:
    probes = OfflineProbes(ctx)
    world = UncachedWorld(ctx, desired, probes.blobs, probes.contextual)
    return OfflineEngine(ctx, desired, probes, Gate(ctx.region, world=world))


def comparable(cell: Cell) -> tuple[object, ...]:
    return (cell.principal, cell.column, cell.allowed, cell.layer, cell.statements,
            REQUEST_ID.sub("Request ID: -", cell.reason), cell.error)


def test_every_sampled_cell_is_what_an_uncached_gate_decides(tmp_path: Path) -> None:
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(scenario(20, 5, 3)))
    loaded = load_scenario(path)
    found = loaded.scenario
    matrix = access_matrix(found.name, found.region, loaded.desired, [s.name for s in found.states],
                           [s.expectations for s in found.states], classes=False)  # the gate's cells only
    ctx = offline_context(found.name, loaded.desired, found.region)
    slots = [(index, slot) for index, state in enumerate(matrix.states) for slot in state.cells]
    sample = random.Random(13).sample(slots, 200)
    for index, (principal, column) in sample:
        fresh = cell_decider(uncached_engine(ctx, loaded.desired[index]))(principal, column)
        assert comparable(matrix.states[index].cell(principal, column)) == comparable(fresh), (index, principal, column)
    outcomes = {cell.outcome for state in matrix.states for cell in state.cells.values()}
    assert len(outcomes) > 2, "the sample should meet allowed cells and denials of several layers"


def test_the_gate_plans_nothing_over_a_world_without_fixed_answers() -> None:
    """moto's world (authz/world.py) changes with every call: the gate keeps no memo over it."""
    gate = Gate("us-east-1", MotoWorld())
    assert getattr(gate.world, "answers_version", None) is None
    assert gate._static() is None
