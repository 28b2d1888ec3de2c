"""`orchestrate import` grows with the template, not with its square (issue 21, bench/imports.py):
the offline world finds a table or a bucket from an index made once, not by walking every one of
them per lookup; the command takes the importer's own check of the text it writes instead of
loading that text a second time, and still exits 1 when the text does not validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.analysis.offline import offline_context
from orchestrator.cli import main
from orchestrator.imports import validation
from orchestrator.loader import Diagnostic, ScenarioError
from orchestrator.model.scenario import DesiredState
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.resources.context import RunContext

DATA = Path(__file__).parent / "data"
TABLES = 40


def _world() -> DesiredWorld:
    tables = {f"table{i}": {"partition_key": {"name": "id", "type": "S"}} for i in range(TABLES)}
    tables["made"] = {"partition_key": {"name": "id", "type": "S"}, "create_only": True}
    desired = DesiredState.model_validate({"tables": tables, "buckets": {f"bucket{i}": {} for i in range(TABLES)}})
    return DesiredWorld(offline_context("scaling", [desired], "us-east-1"), desired, {})


def _counting_arns(monkeypatch: pytest.MonkeyPatch, kind: str) -> list[str]:
    counted: list[str] = []
    original = RunContext.arn

    def arn(self: RunContext, reference: str) -> str:
        if reference.startswith(kind):
            counted.append(reference)
        return original(self, reference)

    monkeypatch.setattr(RunContext, "arn", arn)
    return counted


def test_a_table_lookup_does_not_walk_every_table(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world()
    counted = _counting_arns(monkeypatch, "table:")
    for i in range(TABLES):
        by_arn = world.ctx.arn(f"table:table{i}")
        found = world.table(by_arn, "us-east-1", world.ctx.account)
        assert found is not None and found.arn == by_arn
        physical = world.ctx.physical(f"table{i}")
        assert world.table(physical, "us-east-1", world.ctx.account) is not None
    assert world.table(world.ctx.physical("made"), "us-east-1", world.ctx.account) is None  # not made yet
    assert world.table("arn:aws:dynamodb:us-east-1:123456789012:table/ghost", "us-east-1", world.ctx.account) is None
    # the index (one ARN per table), then one per answer; a walk per lookup made ~TABLES^2 / 2
    assert len(counted) <= 4 * TABLES, f"{len(counted)} table ARNs built for {TABLES} tables"


def test_a_bucket_lookup_does_not_walk_every_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world()
    names: list[str] = []
    original = RunContext.bucket_name

    def bucket_name(self: RunContext, name: str) -> str:
        names.append(name)
        return original(self, name)

    monkeypatch.setattr(RunContext, "bucket_name", bucket_name)
    physical = [original(world.ctx, f"bucket{i}") for i in range(TABLES)]
    for i, name in enumerate(physical):
        found = world.bucket(name)
        assert found is not None and found.arn == world.ctx.arn(f"bucket:bucket{i}")
        assert world.s3_object(name, "no-such-key") is None
    assert world.bucket("no-such-bucket") is None
    assert len(names) <= 4 * TABLES, f"{len(names)} bucket names built for {TABLES} buckets"


def test_the_command_loads_the_imported_text_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import orchestrator.loader as loader

    read = []
    original = loader.read_yaml
    monkeypatch.setattr(loader, "read_yaml", lambda path: read.append(path) or original(path))
    assert main(["import", str(DATA / "seed.yaml"), "-o", str(tmp_path / "seed.yaml")]) == 0
    assert len(read) == 1, f"the imported scenario was loaded {len(read)} times"


def test_a_text_the_loader_refuses_is_still_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A problem no imported entity explains (a bug of the importer) is reported with the loader's words."""
    def refusing(path: Path) -> None:
        raise ScenarioError([Diagnostic(str(path), 9, 3, "an invented problem", ("states", 0, "name"))])

    monkeypatch.setattr(validation, "load_scenario", refusing)
    out = tmp_path / "seed.yaml"
    assert main(["import", str(DATA / "seed.yaml"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the imported scenario does not validate (please report it)" in err
    assert "imported.yaml:9:3: an invented problem (at states[0].name)" in err


def test_the_cycle_collector_runs_less_often_during_the_import_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import gc

    from orchestrator.commands import import_

    seen = []
    original = import_.import_template
    monkeypatch.setattr(import_, "import_template", lambda *args: seen.append(gc.get_threshold()) or original(*args))
    before = gc.get_threshold()
    assert main(["import", str(DATA / "seed.yaml"), "-o", str(tmp_path / "seed.yaml")]) == 0
    assert seen == [import_.IMPORT_GC_THRESHOLDS] and gc.get_threshold() == before
    assert main(["import", str(tmp_path / "missing.yaml")]) == 2   # restored when the import fails too
    assert gc.get_threshold() == before
