"""AWS::Organizations::Policy, AWS::Organizations::OrganizationalUnit and AWS::EC2::VPCEndpoint from a
template orchestrate did not write (imports/organization.py): what has no place in the scenario is
named by a note, never dropped in silence."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.imports import import_template

TEMPLATE = {
    "Resources": {
        "Apps": {"Type": "AWS::Organizations::OrganizationalUnit", "Properties": {"Name": "apps", "ParentId": "r-ab12"}},
        "Team": {"Type": "AWS::Organizations::OrganizationalUnit",
                 "Properties": {"Name": "team", "ParentId": {"Ref": "Apps"}}},
        "Guard": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "Guard", "Type": "SERVICE_CONTROL_POLICY", "TargetIds": [{"Ref": "Team"}, "ou-elsewhere-12345678"],
            "Content": '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}'}},
        "Tagging": {"Type": "AWS::Organizations::Policy", "Properties": {
            "Name": "Tagging", "Type": "TAG_POLICY", "Content": {"tags": {}}}},
        "Sqs": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": "vpc-0123456789abcdef0", "ServiceName": "com.amazonaws.us-east-1.sqs"}},
        "Dynamo": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": "vpc-0123456789abcdef0", "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"},
            "RouteTableIds": ["rtb-0123456789abcdef0"]}},
    }
}


def test_a_foreign_template_imports_what_the_scenario_can_say(tmp_path: Path) -> None:
    path = tmp_path / "org.template.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE))
    result = import_template(path)
    assert result.problems == ""
    organization = result.scenario["organization"]
    assert organization["units"] == {"apps": {}, "team": {"parent": "apps"}}
    assert organization["scps"]["Guard"]["targets"] == ["ou:team"]
    assert "Tagging" not in organization.get("scps", {})
    assert result.scenario["vpc_endpoints"] == {"Dynamo": {"service": "dynamodb", "vpc": "vpc-0123456789abcdef0"}}
    notes = "\n".join(result.notes)
    assert "Guard: target 'ou-elsewhere-12345678'" in notes
    assert "Tagging: not imported: an Organizations policy of type 'TAG_POLICY'" in notes
    assert "Sqs: not imported: an endpoint of 'sqs'" in notes
    assert result.skipped == []
