"""scenario -> `orchestrate export --format cloudformation` -> `orchestrate import` -> validate
gives an equivalent desired state (the base state's) for every shipped scenario. What the export
says it leaves out (its notes: DynamoDB items, KMS grants, S3 objects, entities of other accounts,
a key pending deletion; of the organization, what no resource says: its existence and policy types,
member accounts' places, FullAWSAccess detached, units' descriptions, or all of it in a template of
another account than the management one, which keeps only the management account and the units its
policies' references need) is taken out of the original before comparing. The scenarios of
tests/export/data (organizations, VPC endpoints) go through it too."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from orchestrator.imports import import_template
from orchestrator.imports.resources import PROBE_OBJECT
from orchestrator.loader import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
DATA = sorted((Path(__file__).resolve().parents[1] / "export" / "data").glob("*.yaml"))
SCENARIOS += [path for path in DATA if path.name not in {shipped.name for shipped in SCENARIOS}]
EXPORT_MISSING = importlib.util.find_spec("orchestrator.export") is None
pytestmark = pytest.mark.skipif(EXPORT_MISSING, reason="orchestrator.export (orchestrate export) is not built yet")
#: A drift address kind (export/notes.py) -> the DesiredState section of its entity.
SECTIONS = {"iam_user": "users", "iam_user_access": "users", "iam_role": "roles", "iam_role_access": "roles",
            "kms_key": "keys", "kms_grant": "keys", "dynamodb_table": "tables", "s3_bucket": "buckets", "s3_objects": "buckets",
            "s3_account_public_access_block": "account_public_access_block"}


def _left_out(desired: dict[str, Any], notes: list[Any]) -> dict[str, Any]:
    """The original desired state without what the export's notes name."""
    for note in notes:
        kind, _, name = note.address.partition(".")
        if kind == "vpc":
            continue   # a named VPC's literal id, written as the template's VPC parameter: read back as it was
        if kind in ("organization", "vpc_endpoint"):
            _organization_left_out(desired, kind, name, note.path)
            continue
        section = desired[SECTIONS[kind]]
        if name not in section:
            continue
        if kind == "kms_grant":
            section[name]["grants"] = {}
        elif kind == "s3_objects":
            section[name]["objects"] = []
        elif note.path == "items":
            section[name]["items"] = []
        elif note.path == "pending_deletion":
            section[name].update(pending_deletion=False, enabled=False)   # exported disabled
        elif not note.path:
            del section[name]   # another account's entity
    desired.pop("accounts")
    return desired


def _organization_left_out(desired: dict[str, Any], kind: str, name: str, path: str) -> None:
    """What an `organization.organization` or `vpc_endpoint.NAME` note leaves out (export/organization.py)."""
    organization = desired["organization"]
    if kind == "vpc_endpoint":
        if not path:
            desired["vpc_endpoints"].pop(name, None)   # another account's: `id` is a literal written as the Ref
    elif not path:   # managed from another account: its management account and units by parent stay
        desired["organization"] = {**organization, "outside": [], "detach_full_aws_access": [], "scps": {}, "rcps": {},
                                   "units": {unit: {**spec, "accounts": [], "description": None}
                                             for unit, spec in organization["units"].items()}}
    elif path == "accounts":
        organization["outside"] = []
        for unit in organization["units"].values():
            unit["accounts"] = []
    elif path == "detach_full_aws_access":
        organization["detach_full_aws_access"] = []
    elif path.startswith("units.") and path.endswith(".description"):
        organization["units"][path.split(".")[1]]["description"] = None


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_desired_state(path: Path, tmp_path: Path) -> None:
    from orchestrator.export import export_state

    loaded = load_scenario(path)
    exported = export_state(loaded, 0, "cloudformation")
    template = tmp_path / f"{path.stem}.template.yaml"
    template.write_text(exported.text)
    result = import_template(template, loaded.scenario.region)
    written = tmp_path / f"{path.stem}.yaml"
    written.write_text(result.text)
    back = load_scenario(written)   # validates
    assert back.scenario.name == loaded.scenario.name
    assert result.skipped == [] and result.notes == []
    expected = _left_out(loaded.desired[0].model_dump(), exported.notes)
    actual = back.desired[0].model_dump()
    actual.pop("accounts")
    for bucket in actual["buckets"].values():   # the object the import seeds to propose reads (resources.PROBE_OBJECT)
        assert bucket["objects"] == [PROBE_OBJECT]
        bucket["objects"] = []
    assert actual == expected
    assert result.dropped == []   # the export writes no property the import has no place for


def test_the_commands_round_trip_the_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`orchestrate export ... -o` then `orchestrate import ... -o`, then `orchestrate validate`."""
    from orchestrator.cli import main

    seed = next(p for p in SCENARIOS if p.stem == "kms-dynamodb-access")
    template, scenario = tmp_path / "seed.template.yaml", tmp_path / "seed.yaml"
    assert main(["export", str(seed), "--format", "cloudformation", "--state", "without-key-grant", "-o", str(template)]) == 0
    assert main(["import", str(template), "-o", str(scenario)]) == 0
    assert main(["validate", str(scenario)]) == 0
    expectations = load_scenario(scenario).scenario.states[0].expectations
    tester = next(e for e in expectations if (e.principal, e.action) == ("tester", "dynamodb:GetItem"))
    admin = next(e for e in expectations if (e.principal, e.action) == ("admin", "dynamodb:GetItem"))
    assert (tester.expect, tester.layer, admin.expect) == ("denied", "key-policy", "allowed")
