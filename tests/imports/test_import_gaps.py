"""Issue 22, item 6: what the importer used to leave out without a word. The modeline points at
the schema from where the scenario is written; buckets, signing and MAC keys and roles get
proposed expectations; dropped properties are listed; names given by intrinsic functions are
resolved; `--parameter NAME=VALUE` overrides a parameter's default (data/gaps.yaml)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.imports import ParameterError, import_template
from orchestrator.imports.writer import MODELINE_PREFIX, SCHEMA_FILE
from orchestrator.loader import load_scenario

DATA = Path(__file__).parent / "data"
GAPS = DATA / "gaps.yaml"


def _find(expectations: list[dict[str, Any]], principal: str, action: str, resource: str) -> dict[str, Any]:
    return next(e for e in expectations if (e["as"], e["action"], e["resource"]) == (principal, action, resource))


def _editor_schema(scenario: Path) -> Path:
    """The schema yaml-language-server loads for ``scenario``: its `$schema`, against its folder."""
    first = scenario.read_text().splitlines()[0]
    assert first.startswith(MODELINE_PREFIX)
    return (scenario.parent / first.removeprefix(MODELINE_PREFIX)).resolve()


@pytest.mark.parametrize("where", ["out.yaml", "deep/er/out.yaml"])
def test_the_modeline_points_at_the_schema_from_the_output(tmp_path: Path, where: str) -> None:
    out = tmp_path / where
    out.parent.mkdir(parents=True, exist_ok=True)
    assert main(["import", str(GAPS), "-o", str(out)]) == 0
    assert _editor_schema(out) == SCHEMA_FILE.resolve()
    assert not out.read_text().splitlines()[0].removeprefix(MODELINE_PREFIX).startswith("/")  # relative


def test_the_modeline_follows_a_relative_output_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert main(["import", str(GAPS), "-o", os.path.join("sub", "out.yaml")]) == 0
    assert _editor_schema(tmp_path / "sub" / "out.yaml") == SCHEMA_FILE.resolve()


def test_on_standard_output_the_modeline_is_absolute_and_said_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(GAPS)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == f"{MODELINE_PREFIX}{SCHEMA_FILE}"
    assert f"the $schema modeline names {SCHEMA_FILE} (standard output" in captured.err


def test_a_bucket_policy_deny_is_proposed_for_reads_and_writes_are_proposed() -> None:
    result = import_template(GAPS)
    expectations = result.scenario["states"][0]["expectations"]
    probe = "object:reports-dev/orchestrate-probe.txt"
    assert result.scenario["buckets"]["reports-dev"]["objects"] == [
        {"key": "orchestrate-probe.txt", "body": "seeded by orchestrate import to prove who may read it"}]
    assert _find(expectations, "reader-dev", "s3:GetObject", probe) == {
        "as": "reader-dev", "action": "s3:GetObject", "resource": probe, "expect": "denied", "layer": "explicit-deny"}
    assert _find(expectations, "reader-dev", "s3:PutObject", probe)["expect"] == "allowed"
    assert _find(expectations, "reader-dev", "s3:ListBucket", "bucket:reports-dev")["expect"] == "allowed"
    assert "# Each bucket seeds one object, orchestrate-probe.txt" in result.text
    assert not result.problems


def test_signing_and_mac_keys_get_their_own_actions() -> None:
    expectations = import_template(GAPS).scenario["states"][0]["expectations"]
    on_keys = {(e["action"], e["resource"]) for e in expectations if e["as"] == "reader-dev" and e["resource"].startswith("key:")}
    assert on_keys == {("kms:Sign", "key:Signer"), ("kms:Verify", "key:Signer"),
                       ("kms:GenerateMac", "key:Mac"), ("kms:VerifyMac", "key:Mac")}
    assert _find(expectations, "role:admin-dev", "kms:Sign", "key:Signer")["layer"] == "identity-policy"


def test_who_may_assume_each_role_is_proposed() -> None:
    expectations = import_template(GAPS).scenario["states"][0]["expectations"]
    assert _find(expectations, "reader-dev", "sts:AssumeRole", "role:admin-dev") == {
        "as": "reader-dev", "action": "sts:AssumeRole", "resource": "role:admin-dev", "expect": "allowed"}
    assert not any(e["action"] == "sts:AssumeRole" and e["as"].startswith("role:") for e in expectations)


def test_a_user_whose_policy_does_not_allow_assuming_is_denied(tmp_path: Path) -> None:
    """The trust policy trusts the account, not the user: the user's own policy must allow it
    (IAM User Guide, "Cross-account policy evaluation logic" within one account: either suffices
    when the trust policy names the user, only the identity policy when it names the account)."""
    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n"
        "  U: {Type: AWS::IAM::User, Properties: {UserName: u}}\n"
        "  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n"
        "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {AWS: !Ref AWS::AccountId}, Action: sts:AssumeRole}]}\n")
    expectations = import_template(template).scenario["states"][0]["expectations"]
    assert _find(expectations, "u", "sts:AssumeRole", "role:r") == {
        "as": "u", "action": "sts:AssumeRole", "resource": "role:r", "expect": "denied", "layer": "identity-policy"}


def test_every_dropped_property_is_listed_in_the_output_and_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gaps.yaml"
    assert main(["import", str(GAPS), "-o", str(out)]) == 0
    text, err = out.read_text(), capsys.readouterr().err
    for logical, kind, prop in (("Orders", "AWS::DynamoDB::Table", "PointInTimeRecoverySpecification"),
                                ("Reports", "AWS::S3::Bucket", "VersioningConfiguration")):
        line = f"{logical}.{prop} ({kind}): not imported, the scenario language has no place for it"
        assert f"# Dropped: {line}\n" in text
        assert f"orchestrate import: dropped: {line}\n" in err
    assert text.count("# Dropped:") == 2 and err.count("dropped:") == 2  # the mapped ones are not listed
    # PublicAccessBlockConfiguration is mapped, not dropped
    assert load_scenario(out).desired[0].buckets["reports-dev"].public_access_block is not None


def test_names_given_by_intrinsic_functions_are_resolved() -> None:
    scenario = import_template(GAPS).scenario
    assert list(scenario["users"]) == ["reader-dev"] and list(scenario["roles"]) == ["admin-dev"]
    assert list(scenario["tables"]) == ["orders-dev"] and list(scenario["buckets"]) == ["reports-dev"]
    assert scenario["keys"]["Mac"]["aliases"] == ["alias/mac-dev"]
    # the trust policy's principal names the resolved user
    assert scenario["roles"]["admin-dev"]["trust_policy"]["Statement"][0]["Principal"] == {"AWS": "user:reader-dev"}


def test_a_resolved_physical_name_is_found_where_another_resource_names_it(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "Parameters: {Env: {Type: String, Default: dev}}\n"
        "Resources:\n"
        "  U: {Type: AWS::IAM::User, Properties: {UserName: !Sub 'u-${Env}'}}\n"
        "  P: {Type: AWS::IAM::UserPolicy, Properties: {UserName: u-dev, PolicyName: p,"
        " PolicyDocument: {Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]}}}\n")
    result = import_template(template)
    assert "p" in result.scenario["users"]["u-dev"]["inline_policies"], result.notes


def test_a_name_the_template_does_not_give_is_noted_and_the_logical_id_used(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  U: {Type: AWS::IAM::User, Properties: {UserName: !ImportValue shared-name}}\n")
    result = import_template(template)
    assert list(result.scenario["users"]) == ["U"]
    assert any(n.startswith("U: its name is not known from the template (Fn::ImportValue") for n in result.notes)


def test_a_parameter_overrides_the_default_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "prod.yaml"
    assert main(["import", str(GAPS), "--parameter", "Env=prod", "-o", str(out)]) == 0
    desired = load_scenario(out).desired[0]
    assert set(desired.tables) == {"orders-prod"} and set(desired.users) == {"reader-prod"}
    assert desired.keys["Mac"].aliases == ["alias/mac-prod"]


@pytest.mark.parametrize("argument, message", [
    ("Stage=prod", "--parameter Stage: the template declares no parameter Stage (its parameters: Env)"),
    ("Env=test", "--parameter Env=test: not one of the parameter's AllowedValues (dev, prod)"),
    ("Env", "--parameter 'Env': expected NAME=VALUE"),
])
def test_a_parameter_the_template_cannot_take_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        argument: str, message: str) -> None:
    out = tmp_path / "out.yaml"
    assert main(["import", str(GAPS), "--parameter", argument, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"orchestrate import: {message}\n"
    assert not out.exists()


def test_list_parameters_are_lists_and_the_last_value_given_wins(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "Parameters:\n  Names: {Type: CommaDelimitedList, Default: 'a,b'}\n  Env: {Type: String, Default: dev}\n"
        "Resources:\n  U: {Type: AWS::IAM::User, Properties: {UserName: !Select [1, !Ref Names]}}\n"
        "  T: {Type: AWS::IAM::User, Properties: {UserName: !Sub 't-${Env}'}}\n")
    assert set(import_template(template).scenario["users"]) == {"b", "t-dev"}
    assert set(import_template(template, parameters={"Names": "x, y", "Env": "qa"}).scenario["users"]) == {"y", "t-qa"}
    with pytest.raises(ParameterError):
        import_template(template, parameters={"Nope": "1"})
