"""The organization and VPC endpoints in both formats (export/organization.py, cloudformation_org.py,
terraform_org.py): what each template holds, what it says it leaves out, and that no scenario word
(`organization`, `ou:NAME`, an embedded endpoint id) reaches a deployed policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import yaml

from orchestrator.export import export_state
from orchestrator.export.terraform import provider_constraint
from orchestrator.loader import load_scenario

DATA = Path(__file__).resolve().parent / "data"


def _export(name: str, fmt: str, index: int = 0) -> Any:
    return export_state(load_scenario(DATA / f"{name}.yaml"), index, fmt)


def _template(name: str) -> dict[str, Any]:
    return yaml.safe_load(_export(name, "cloudformation").text)


def _lines(name: str, fmt: str) -> set[str]:
    return {note.line().partition(":")[0] for note in _export(name, fmt).notes}


def test_management_template_holds_units_and_policies() -> None:
    template = _template("org-scp")
    resources = template["Resources"]
    assert resources["UnitWorkloads"]["Properties"]["ParentId"] == {"Ref": "OrganizationRootId"}
    assert resources["UnitProd"]["Properties"]["ParentId"] == {"Ref": "UnitWorkloads"}
    scp = resources["ScpNoKeyDeletion"]
    assert scp["Type"] == "AWS::Organizations::Policy"
    assert scp["Properties"]["Type"] == "SERVICE_CONTROL_POLICY"
    assert scp["Properties"]["TargetIds"] == [{"Ref": "UnitProd"}]
    assert isinstance(scp["Properties"]["Content"], dict)   # an object, so that drift detection works
    tags = {t["Key"]: t["Value"] for t in scp["Properties"]["Tags"]}
    assert tags == {"orchestrate:name": "NoKeyDeletion", "orchestrate:run": "default", "orchestrate:scenario": "org-scp"}
    assert template["Parameters"]["OrganizationRootId"]["AllowedPattern"] == r"^r-[0-9a-z]{4,32}$"
    assert "OrganizationId" not in template["Parameters"]   # no policy names it
    assert {"organization.organization.policy_types", "organization.organization.accounts"} <= _lines("org-scp", "cloudformation")


def test_detached_state_keeps_the_policy_attached_nowhere() -> None:
    resources = yaml.safe_load(_export("org-scp", "cloudformation", 1).text)["Resources"]
    assert "TargetIds" not in resources["ScpNoKeyDeletion"]["Properties"]


def test_rcps_accounts_and_references() -> None:
    template = _template("org-guardrails")
    resources = template["Resources"]
    assert resources["RcpOrgOnly"]["Properties"]["Type"] == "RESOURCE_CONTROL_POLICY"
    assert resources["RcpOrgOnly"]["Properties"]["TargetIds"] == [{"Ref": "OrganizationRootId"}]
    assert resources["ScpNoKeyDeletion"]["Properties"]["TargetIds"] == [{"Ref": "UnitProd"}, "222222222222"]
    assert resources["ScpNoKeyDeletion"]["Properties"]["Description"] == "no key deletion in production"
    condition = resources["RcpOrgOnly"]["Properties"]["Content"]["Statement"][0]["Condition"]
    assert condition["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == {"Ref": "OrganizationId"}
    paths = resources["EndpointS3Gateway"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]["StringLike"]
    assert paths["aws:PrincipalOrgPaths"] == [
        {"Fn::Sub": "${OrganizationId}/${OrganizationRootId}/${UnitWorkloads}/*"},
        {"Fn::Sub": "${OrganizationId}/${OrganizationRootId}/${UnitSandbox}/"}]
    metadata = template["Metadata"]["Orchestrate"]
    assert metadata["Accounts"] == {"dev": "222222222222"}
    assert metadata["Parameters"]["OrganizationId"] == "organization"
    writes = resources["BucketGuardedDocsPolicy"]["Properties"]["PolicyDocument"]["Statement"][1]["Condition"]
    assert writes["StringNotEquals"]["aws:SourceVpc"] == {"Ref": "VpcMainId"}
    lines = _lines("org-guardrails", "cloudformation")
    assert "vpc.main.id" in lines
    assert "organization.organization.detach_full_aws_access" in lines
    assert "organization.organization.units.workloads.description" in lines
    assert "p-FullAWSAccess" in _export("org-guardrails", "cloudformation").text.split("AWSTemplateFormatVersion")[0]


def test_endpoints_take_their_network_from_parameters() -> None:
    template = _template("org-guardrails")
    gateway = template["Resources"]["EndpointS3Gateway"]["Properties"]
    interface = template["Resources"]["EndpointKmsInterface"]["Properties"]
    assert gateway["VpcEndpointType"] == "Gateway" and gateway["RouteTableIds"] == {"Ref": "EndpointS3GatewayRouteTableIds"}
    assert interface["VpcEndpointType"] == "Interface" and interface["SubnetIds"] == {"Ref": "EndpointKmsInterfaceSubnetIds"}
    assert interface["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.kms"} and "PolicyDocument" not in interface
    parameters = template["Parameters"]
    assert parameters["VpcMainId"]["Type"] == "AWS::EC2::VPC::Id" and "Default" not in parameters["VpcMainId"]
    assert parameters["VpcVpc0123456789abcdef0Id"]["Default"] == "vpc-0123456789abcdef0"


def test_a_literal_endpoint_id_names_the_exported_endpoint() -> None:
    template = _template("vpce-bucket")
    statement = template["Resources"]["BucketVpceDocsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Condition"]["StringNotEquals"]["aws:SourceVpce"] == {"Ref": "EndpointS3Endpoint"}
    assert "vpc_endpoint.s3-endpoint.id" in _lines("vpce-bucket", "cloudformation")
    hcl = _export("vpce-bucket", "terraform").text
    assert "aws_vpc_endpoint.s3-endpoint.id" in hcl and "vpce-baa47112324b69336" not in hcl.split("terraform {")[1]


def test_another_accounts_template_names_the_organization_by_parameters() -> None:
    template = _template("org-member")
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::Organizations::")]
    assert "organization.organization" in _lines("org-member", "cloudformation")
    statement = template["Resources"]["BucketAppsDocsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Condition"]["StringLike"]["aws:PrincipalOrgPaths"] == {
        "Fn::Sub": "${OrganizationId}/${OrganizationRootId}/${OrganizationalUnitAppsId}/*"}
    assert template["Parameters"]["OrganizationalUnitAppsId"]["AllowedPattern"].startswith("^ou-")
    assert template["Metadata"]["Orchestrate"]["Organization"] == {"Management": "mgmt", "Units": {"apps": "root"}}


def test_no_scenario_word_reaches_a_policy() -> None:
    for name in ("org-scp", "org-guardrails", "org-member", "vpce-bucket"):
        resources = json.dumps(_template(name)["Resources"])
        assert '"ou:' not in resources and ': "organization"' not in resources and "vpce-baa4" not in resources
        blocks = _export(name, "terraform").text.split("terraform {")[1]
        assert '"ou:' not in blocks and '= "organization"' not in blocks


def _resources(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(kind.strip('"'), name.strip('"')): {key: value.strip('"') if isinstance(value, str) else value
                                                 for key, value in body.items()}
            for entry in hcl2.loads(text).get("resource", []) for kind, named in entry.items() for name, body in named.items()}


def test_terraform_policies_attachments_and_units() -> None:
    text = _export("org-guardrails", "terraform").text
    resources = _resources(text)
    assert resources[("aws_organizations_policy", "rcp_OrgOnly")]["type"] == "RESOURCE_CONTROL_POLICY"
    attachments = {name: body for (kind, name), body in resources.items() if kind == "aws_organizations_policy_attachment"}
    assert attachments["scp_NoKeyDeletion_account_dev"]["target_id"] == "222222222222"
    assert attachments["rcp_OrgOnly_root"]["target_id"] == "${data.aws_organizations_organization.current.roots[0].id}"
    assert resources[("aws_organizations_organizational_unit", "prod")]["parent_id"] == \
        "${aws_organizations_organizational_unit.workloads.id}"
    assert 'data "aws_organizations_organization" "current"' in text
    assert resources[("aws_vpc_endpoint", "kms-interface")]["subnet_ids"] == "${var.subnet_ids_kms-interface}"
    assert 'default     = "vpc-0123456789abcdef0"' in text
    assert '"version" = ">= 5.77.0"' in text   # RESOURCE_CONTROL_POLICY
    assert provider_constraint(["aws_organizations_policy", "SERVICE_CONTROL_POLICY"]) == ">= 5.0.0"


def test_terraform_of_another_account_takes_the_ids_as_variables() -> None:
    text = _export("org-member", "terraform").text
    assert "aws_organizations_" not in text.split("terraform {")[1].replace("data.aws_organizations", "")
    for variable in ("organization_id", "organization_root_id", "organizational_unit_ids"):
        assert f'variable "{variable}"' in text
    policy = json.dumps(hcl2.loads(text))
    assert 'var.organizational_unit_ids[\\"apps\\"]' in policy or "organizational_unit_ids" in policy
